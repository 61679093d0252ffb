#!/usr/bin/env python3
"""Fill a mailbox of the bench Dovecot with N generated messages (sizes vary)."""
import imaplib
import random
import sys
import time

host, port, user, password, mailbox, count = sys.argv[1:7]
count = int(count)
rng = random.Random(42)
M = imaplib.IMAP4(host, int(port))
M.login(user, password)
M.create(mailbox)
for i in range(count):
    size = rng.choice([800, 2000, 6000, 20000, 120000])
    body = ("x" * 76 + "\r\n") * (size // 78)
    msg = (f"From: bench{i}@example.org\r\nTo: me@example.org\r\nSubject: bench {i}\r\n"
           f"Message-ID: <bench.{i}@example.org>\r\n\r\n{body}").encode()
    flags = "(\\Seen)" if i % 3 else "()"
    M.append(mailbox, flags, imaplib.Time2Internaldate(time.time() - i * 60), msg)
M.logout()
