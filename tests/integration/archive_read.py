#!/usr/bin/env python3
"""Reads an imapkeep export back with Python's own mailbox/email modules.

usage: archive_read.py FORMAT PATH

Prints one line per message, sorted:
    MAILBOX <TAB> SHA256 <TAB> SUBJECT <TAB> FLAGS
SHA256 is over the message with CRLF turned into LF and trailing newlines
removed, so mbox (LF) and maildir/eml (bytes as sent) compare alike. FLAGS is
the Maildir flag letters (maildir), the index.csv flags (eml), or "-" (mbox,
which keeps no flags).
"""
import base64
import csv
import email
import email.policy
import hashlib
import mailbox
import os
import re
import sys


def norm_sha(data: bytes) -> str:
    return hashlib.sha256(data.replace(b"\r\n", b"\n").rstrip(b"\n")).hexdigest()


def subject_of(data: bytes) -> str:
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    return str(msg.get("Subject", "")).replace("\t", " ")


def mutf7_decode(s: str) -> str:
    # RFC 3501 §5.1.3 modified UTF-7, as Dovecot's Maildir++ folder names use it.
    def dec(m):
        b64 = m.group(1)
        if b64 == "":
            return "&"
        b64 = b64.replace(",", "/")
        b64 += "=" * (-len(b64) % 4)
        return base64.b64decode(b64).decode("utf-16-be")
    return re.sub(r"&([A-Za-z0-9+,]*)-", dec, s)


def unescape(level: str) -> str:
    return re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), level)


def read_mbox(path):
    rows = []
    for root, _dirs, files in os.walk(path):
        for f in files:
            if not f.endswith(".mbox"):
                continue
            full = os.path.join(root, f)
            name = os.path.relpath(full, path)[: -len(".mbox")]
            box = mailbox.mbox(full, create=False)
            for key in box.keys():
                # Raw bytes, with the mboxrd quoting undone (Python reads mboxo).
                raw = box.get_bytes(key)
                raw = re.sub(rb"(?m)^>(>*From )", rb"\1", raw)
                rows.append((name, norm_sha(raw), subject_of(raw), "-"))
    return rows


def read_maildir(path):
    rows = []
    root = mailbox.Maildir(path, factory=None, create=False)
    boxes = [("INBOX", root)]
    for folder in root.list_folders():
        levels = [mutf7_decode(unescape(l)) for l in folder.split(".")]
        boxes.append(("/".join(levels), root.get_folder(folder)))
    for name, box in boxes:
        for key in box.keys():
            raw = box.get_bytes(key)
            flags = box.get_message(key).get_flags()
            rows.append((name, norm_sha(raw), subject_of(raw), flags or "-"))
    return rows


def read_eml(path):
    rows = []
    with open(os.path.join(path, "index.csv"), newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["mailbox", "uid", "date", "from", "subject", "flags", "file", "labels"], reader.fieldnames
        for r in reader:
            with open(os.path.join(path, r["file"]), "rb") as m:
                raw = m.read()
            subject = subject_of(raw)
            assert r["subject"].replace("\t", " ") == subject, (r["subject"], subject)
            rows.append((r["mailbox"], norm_sha(raw), subject, r["flags"] or "-"))
    return rows


def main():
    fmt, path = sys.argv[1], sys.argv[2]
    rows = {"mbox": read_mbox, "maildir": read_maildir, "eml": read_eml}[fmt](path)
    for row in sorted(rows):
        print("\t".join(row))


if __name__ == "__main__":
    main()
