#!/usr/bin/env python3
"""A TCP proxy in front of an IMAP server, for tests that need a server which
behaves differently from Dovecot (e.g. one that drops flags on APPEND).

Bytes are forwarded as they are, except the *lines* of each direction, which go
through rewrites chosen on the command line. Both directions are split into
lines and literals (RFC 3501 §4.3: a line ending in "{n}", "{n+}" or "~{n}" is
followed by n raw bytes), so a rewrite never sees message bytes. Literal sizes
are never changed, so a rewrite must leave the literal marker alone.

Usage:
  imap_proxy.py --upstream HOST:PORT [--port 0] [rewrite options]
Prints "PORT <n>" on stdout once listening, then serves until killed.

Rewrites (add new ones as functions in CLIENT_REWRITES / SERVER_REWRITES):
  --strip-append-flags            APPEND without its flag list (all flags lost)
  --strip-append-flag FLAG        only FLAG (e.g. \\Flagged) removed from APPENDs
  --strip-append-date             APPEND without its date-time (date not kept)
  --hide-capability NAME          NAME removed from CAPABILITY lists; for
                                  UIDPLUS also the APPENDUID/COPYUID codes
  --permanent-flags "(LIST)"      every [PERMANENTFLAGS (...)] says LIST instead
  --cut-once-at "WORDS"           the first client line holding WORDS (e.g.
                                  "UID STORE") is not forwarded: that connection
                                  is cut instead, once per proxy
  --hide-listed PREFIX            LIST responses for mailboxes whose name starts
                                  with PREFIX are dropped (a mailbox created
                                  after the LIST, as a cut connection's CREATE
                                  that lands late)
Connections in COMPRESS=DEFLATE cannot be rewritten: leave compression off.
"""
import argparse
import re
import socket
import sys
import threading

LITERAL = re.compile(rb"~?\{(\d+)\+?\}$")
DATE = rb'"[ \d]\d-[A-Za-z]{3}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}"'
# The end of an APPEND line: [SP flag-list] [SP date-time] SP literal.
APPEND_TAIL = re.compile(rb"(?P<flags> \([^()\"{}]*\))?(?P<date> " + DATE + rb")? (?P<lit>~?\{\d+\+?\})$")


class Cut(Exception):
    """Raised by a rewrite to close both sides of the connection."""


class Command:
    """The client command a line belongs to (continuation lines included)."""

    def __init__(self):
        self.name = b""


def append_tail(line, command, edit):
    if command.name != b"APPEND":
        return line
    m = APPEND_TAIL.search(line)
    if not m:
        return line
    flags = m.group("flags") or b""
    date = m.group("date") or b""
    flags, date = edit(flags, date)
    return line[: m.start()] + flags + date + b" " + m.group("lit")


def client_rewrites(args):
    out = []
    if args.strip_append_flags:
        out.append(lambda line, cmd: append_tail(line, cmd, lambda f, d: (b"", d)))
    for flag in args.strip_append_flag or []:
        name = flag.encode().lower()

        def drop_one(f, d, name=name):
            if not f:
                return f, d
            kept = [x for x in f.strip()[1:-1].split(b" ") if x and x.lower() != name]
            return b" (" + b" ".join(kept) + b")", d

        out.append(lambda line, cmd, drop_one=drop_one: append_tail(line, cmd, drop_one))
    if args.strip_append_date:
        out.append(lambda line, cmd: append_tail(line, cmd, lambda f, d: (f, b"")))
    if args.cut_once_at:
        words = args.cut_once_at.encode().upper()
        armed = threading.Event()
        armed.set()

        def cut(line, cmd):
            if armed.is_set() and words in line.upper():
                armed.clear()
                raise Cut()
            return line

        out.append(cut)
    return out


def server_rewrites(args):
    out = []
    for cap in args.hide_capability or []:
        word = re.compile(rb"(?i) " + re.escape(cap.encode()) + rb"(?=[ \]]|$)")

        def hide(line, cmd, word=word, cap=cap):
            if b"CAPABILITY" in line.upper():
                line = word.sub(b"", line)
            if cap.upper() == "UIDPLUS":
                line = re.sub(rb"\[(APPENDUID|COPYUID) [^\]]*\] ?", b"", line)
            return line

        out.append(hide)
    for prefix in args.hide_listed or []:
        listed = re.compile(rb'^\* LIST \([^)]*\) (?:NIL|"(?:[^"\\]|\\.)*") "?' + re.escape(prefix.encode()))
        out.append(lambda line, cmd, listed=listed: None if listed.match(line) else line)
    if args.permanent_flags is not None:
        flags = args.permanent_flags.encode()
        out.append(lambda line, cmd: re.sub(rb"\[PERMANENTFLAGS \([^)]*\)\]",
                                            lambda m: b"[PERMANENTFLAGS " + flags + b"]", line))
    return out


def pump(src, dst, rewrites, track_commands):
    """Copies src to dst, line by line, literals untouched."""
    buf = b""
    pending_literal = 0
    command = Command()
    in_command = False
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            buf += data
            out = b""
            while buf:
                if pending_literal:
                    take = buf[:pending_literal]
                    out += take
                    buf = buf[len(take):]
                    pending_literal -= len(take)
                    continue
                end = buf.find(b"\r\n")
                if end < 0:
                    break
                line, buf = buf[:end], buf[end + 2:]
                if track_commands and not in_command:
                    parts = line.split(b" ", 2)
                    command.name = parts[1].upper() if len(parts) > 1 else b""
                for rewrite in rewrites:
                    line = rewrite(line, command)
                    if line is None:  # dropped (never a line announcing a literal)
                        break
                if line is None:
                    continue
                out += line + b"\r\n"
                m = LITERAL.search(line)
                pending_literal = int(m.group(1)) if m else 0
                in_command = bool(m)
            if out:
                dst.sendall(out)
    except (OSError, Cut):
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(args):
    host, port = args.upstream.rsplit(":", 1)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(16)
    print("PORT", listener.getsockname()[1], flush=True)
    to_server, to_client = client_rewrites(args), server_rewrites(args)
    while True:
        client, _ = listener.accept()
        upstream = socket.create_connection((host, int(port)))
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=pump, args=(client, upstream, to_server, True), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client, to_client, False), daemon=True).start()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--upstream", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--strip-append-flags", action="store_true")
    p.add_argument("--strip-append-flag", action="append")
    p.add_argument("--strip-append-date", action="store_true")
    p.add_argument("--hide-capability", action="append")
    p.add_argument("--permanent-flags")
    p.add_argument("--cut-once-at")
    p.add_argument("--hide-listed", action="append")
    serve(p.parse_args())


if __name__ == "__main__":
    sys.exit(main())
