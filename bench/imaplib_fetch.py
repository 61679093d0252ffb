#!/usr/bin/env python3
"""Scenario 6, the Python side: what bench_imaplib_fetch does, with CPython's
imaplib. Per mailbox select(readonly) and one
uid("FETCH", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[])"), the answer held.

    imaplib_fetch.py HOST PORT USER PASSWORD
prints "mailboxes M messages N bytes B".
"""
import imaplib
import re
import sys

LIST_LINE = re.compile(rb'\((?P<flags>[^)]*)\) (?:NIL|"(?:\\.|[^"])") (?P<name>.*)$')


def mailboxes(M):
    names = []
    for line in M.list()[1]:
        m = LIST_LINE.match(line)
        if not m or b"\\Noselect" in m["flags"]:
            continue
        name = m["name"]
        names.append(name.decode() if not name.startswith(b'"') else name[1:-1].decode())
    return names


def main():
    host, port, user, password = sys.argv[1:5]
    M = imaplib.IMAP4(host, int(port))
    M.login(user, password)
    names = mailboxes(M)
    messages = size = 0
    for name in names:
        M.select('"%s"' % name, readonly=True)
        typ, data = M.uid("FETCH", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[])")
        if typ != "OK":
            sys.exit("UID FETCH in %s: %s" % (name, typ))
        for part in data:
            if isinstance(part, tuple):
                messages += 1
                size += len(part[1])
    M.logout()
    print("mailboxes %d messages %d bytes %d" % (len(names), messages, size))


if __name__ == "__main__":
    main()
