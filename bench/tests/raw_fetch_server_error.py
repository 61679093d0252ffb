#!/usr/bin/env python3
"""bench_raw_fetch against a server that refuses the pipelined EXAMINE (as
Dovecot does when the account's Maildir is replaced under it) or drops the
connection halfway: the tool must say what happened and exit 1, not die in
std::terminate (exit 134) or on SIGPIPE.

    raw_fetch_server_error.py BENCH_RAW_FETCH"""
import socket
import subprocess
import sys
import threading


def serve(listener, ending):
    conn, _ = listener.accept()
    f = conn.makefile("rb")
    conn.sendall(b"* OK fake ready\r\n")
    f.readline()  # L LOGIN
    conn.sendall(b"L OK logged in\r\n")
    f.readline()  # A LIST
    conn.sendall(b'* LIST () "." INBOX\r\n* LIST () "." Archive\r\nA OK done\r\n')
    f.readline()  # E0 EXAMINE
    if ending == "no":
        conn.sendall(b"E0 NO [SERVERBUG] Internal error occurred\r\n")
    else:
        conn.sendall(b"* 1 EXISTS\r\nE0 OK [READ-ONLY] done\r\n* 1 FETCH (UID 1 BODY[] {100}\r\nshort")
    conn.shutdown(socket.SHUT_RDWR)
    conn.close()


def run(tool, ending, want):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    server = threading.Thread(target=serve, args=(listener, ending), daemon=True)
    server.start()
    port = str(listener.getsockname()[1])
    done = subprocess.run([tool, "127.0.0.1", port, "user", "pw"], capture_output=True, text=True, timeout=30)
    server.join(timeout=10)
    listener.close()
    ok = done.returncode == 1 and want in done.stderr
    print("%s: exit %d, stderr %r" % (ending, done.returncode, done.stderr.strip()))
    return ok


def main():
    tool = sys.argv[1]
    results = [run(tool, "no", "server: E0 NO [SERVERBUG]"), run(tool, "eof", "EOF inside a literal")]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
