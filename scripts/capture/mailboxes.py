#!/usr/bin/env python3
"""Shapes a test account over plain IMAP (127.0.0.1 only) for the transcript
captures: the same steps on Dovecot and Cyrus.

  mailboxes.py setup  PORT USER   (password from $CAPTURE_PASSWORD)
      Archive, Archive/2024, Drafts (empty) and "Café" (modified UTF-7),
      messages with flags in them, and INBOX messages when --inbox N is given
      (Dovecot's INBOX comes from scripts/test-env/seed.sh instead).
  mailboxes.py change PORT USER ROUND
      What a day on the server does before the next backup: new INBOX mail,
      a flag set, a message expunged, a folder renamed, Drafts deleted or made
      again.
"""
import imaplib
import os
import sys


def message(subject, body="hello"):
    return (
        f"From: Alice Example <alice@example.org>\r\n"
        f"To: Bob <bob@example.org>\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}@capture.test>\r\n"
        f"Date: Tue, 2 Jan 2024 09:00:00 +0000\r\n"
        f"\r\n{body}\r\n"
    ).encode()


def login(port, user):
    m = imaplib.IMAP4("127.0.0.1", int(port))
    m.login(user, os.environ["CAPTURE_PASSWORD"])
    return m


def check(typ, what):
    if typ != "OK":
        sys.exit(f"mailboxes.py: {what} failed")


def append(m, mailbox, subject, flags="", body="hello"):
    check(m.append(mailbox, flags, imaplib.Time2Internaldate(1704186000), message(subject, body))[0],
          f"APPEND to {mailbox}")


def setup(port, user, inbox):
    m = login(port, user)
    for name in ("Archive", "Archive/2024", "Drafts", "Caf&AOk-"):
        check(m.create(name)[0], f"CREATE {name}")
    for i in range(inbox):
        append(m, "INBOX", f"inbox {i}", "(\\Seen)" if i % 2 else "")
    append(m, "Archive/2024", "archived 1", "(\\Seen \\Answered)")
    append(m, "Archive/2024", "archived 2", "(\\Seen $Label1)", "a longer body\r\n" * 20)
    append(m, "Caf&AOk-", "cafe 1", "(\\Flagged)")
    m.logout()


def change(port, user, round_):
    m = login(port, user)
    append(m, "INBOX", f"new {round_} a")
    append(m, "INBOX", f"new {round_} b", "(\\Draft)")
    check(m.select("INBOX")[0], "SELECT INBOX")
    typ, data = m.uid("SEARCH", None, "ALL")
    uids = data[0].split()
    if len(uids) >= 2:
        # Toggled, so that every round changes a flag the backup already has.
        change = "+FLAGS" if int(round_) % 2 else "-FLAGS"
        check(m.uid("STORE", uids[0], change, "(\\Flagged)")[0], "STORE \\Flagged")
        check(m.uid("STORE", uids[1], "+FLAGS", "(\\Deleted)")[0], "STORE \\Deleted")
        check(m.expunge()[0], "EXPUNGE")
    m.close()
    typ, listed = m.list("Archive/", "%")
    children = [line.decode().rsplit(" ", 1)[-1].strip('"') for line in listed if line]
    if children:
        check(m.rename(children[0], f"Archive/Y{round_}")[0], "RENAME")
    typ, listed = m.list('""', "Drafts")
    if listed and listed[0]:
        check(m.delete("Drafts")[0], "DELETE Drafts")
    else:
        check(m.create("Drafts")[0], "CREATE Drafts")
    m.logout()


def main():
    cmd, port, user = sys.argv[1:4]
    if cmd == "setup":
        inbox = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--inbox" else 0
        setup(port, user, inbox)
    elif cmd == "change":
        change(port, user, sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
