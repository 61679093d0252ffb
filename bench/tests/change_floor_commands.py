#!/usr/bin/env python3
"""bench_change_floor against a scripted server: it must ask for every change
a real client needs (the floor may not measure less than the work) on both
paths, and open no mailbox a client can tell unchanged: with QRESYNC one
whose status is as before, without it only an empty one (flags change
unseen by STATUS); a server's NO ends it with exit 1.

    change_floor_commands.py BENCH_CHANGE_FLOOR"""
import socket
import subprocess
import sys
import threading

# Known before the change: NAME UIDVALIDITY HIGHESTMODSEQ UIDNEXT.
KNOWN = ["INBOX", "7", "40", "101", "Archive", "8", "12", "31", "My Lists", "9", "5", "11",
         "Trash", "10", "1", "1"]
# After it: INBOX's flags changed, Archive unchanged, "My Lists" has new mail,
# Trash still empty.
STATUS = (b'* STATUS INBOX (UIDVALIDITY 7 UIDNEXT 101 MESSAGES 99 HIGHESTMODSEQ 44)\r\n'
          b'* STATUS Archive (UIDVALIDITY 8 UIDNEXT 31 MESSAGES 30 HIGHESTMODSEQ 12)\r\n'
          b'* STATUS "My Lists" (UIDVALIDITY 9 UIDNEXT 13 MESSAGES 12 HIGHESTMODSEQ 7)\r\n'
          b'* STATUS Trash (UIDVALIDITY 10 UIDNEXT 1 MESSAGES 0 HIGHESTMODSEQ 1)\r\n')

EXPECTED = {
    "qresync": ['E0 EXAMINE "INBOX" (QRESYNC (7 40))',
                'F0 UID FETCH 101:* (FLAGS INTERNALDATE BODY.PEEK[])',
                'E1 EXAMINE "My Lists" (QRESYNC (9 5))',
                'F1 UID FETCH 11:* (FLAGS INTERNALDATE BODY.PEEK[])',
                'Z LOGOUT'],
    "plain": ['E0 EXAMINE "INBOX"',
              'S0 UID FETCH 1:100 (FLAGS)',
              'F0 UID FETCH 101:* (FLAGS INTERNALDATE BODY.PEEK[])',
              'E1 EXAMINE "Archive"',
              'S1 UID FETCH 1:30 (FLAGS)',
              'F1 UID FETCH 31:* (FLAGS INTERNALDATE BODY.PEEK[])',
              'E2 EXAMINE "My Lists"',
              'S2 UID FETCH 1:10 (FLAGS)',
              'F2 UID FETCH 11:* (FLAGS INTERNALDATE BODY.PEEK[])',
              'Z LOGOUT'],
}
# What each path prints: mailboxes opened, FETCH responses, literal bytes.
SUMMARY = {"qresync": ["mailboxes", "2", "messages", "2", "bytes", "10"],
           "plain": ["mailboxes", "3", "messages", "3", "bytes", "15"]}


def answer(conn, tag, refuse):
    if refuse and tag == "E0":
        conn.sendall(b"E0 NO [SERVERBUG] Internal error occurred\r\n")
        return False
    if tag.startswith("F"):
        conn.sendall(b"* 1 FETCH (UID 200 FLAGS () BODY[] {5}\r\nhello)\r\n")
    if tag == "Z":
        conn.sendall(b"* BYE logging out\r\n")
    conn.sendall(tag.encode() + b" OK done\r\n")
    return True


def serve(listener, refuse, commands):
    conn, _ = listener.accept()
    f = conn.makefile("rb")
    conn.sendall(b"* OK fake ready\r\n")
    while True:
        line = f.readline().decode().rstrip("\r\n")
        if not line:
            break
        tag, _, rest = line.partition(" ")
        if rest.startswith("LIST"):
            conn.sendall(STATUS)
        if tag in ("L", "Q", "A"):
            conn.sendall(tag.encode() + b" OK done\r\n")
            continue
        commands.append(line)
        if not answer(conn, tag, refuse) or tag == "Z":
            break
    conn.close()


def run(tool, path, refuse=False):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    commands = []
    server = threading.Thread(target=serve, args=(listener, refuse, commands), daemon=True)
    server.start()
    port = str(listener.getsockname()[1])
    done = subprocess.run([tool, "127.0.0.1", port, "user", "pw", path, *KNOWN],
                          capture_output=True, text=True, timeout=30)
    server.join(timeout=10)
    listener.close()
    return done, commands


def main():
    tool = sys.argv[1]
    ok = True
    for path, want in EXPECTED.items():
        done, commands = run(tool, path)
        good = done.returncode == 0 and commands == want and done.stdout.split() == SUMMARY[path]
        print("%s: exit %d, %r, commands %r" % (path, done.returncode, done.stdout.strip(), commands))
        ok = ok and good
    done, _ = run(tool, "qresync", refuse=True)
    print("refused: exit %d, stderr %r" % (done.returncode, done.stderr.strip()))
    ok = ok and done.returncode == 1 and "NO [SERVERBUG]" in done.stderr
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
