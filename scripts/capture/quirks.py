#!/usr/bin/env python3
"""quirks.py FUZZ_CORPUS_DIR
Derives seeds for the server quirks the code works around (`// Quirk(...)`
in src/, the table in tests/imap/quirks_test.cpp) from the captured
transcripts in FUZZ_CORPUS_DIR/sync (cyrus_best, dovecot_best): each is a
real capture with replies rewritten the way that server really answers.
Writes sync/quirk_NAME (fuzz_sync) and the first rewritten replies as
framer/quirk_NAME_N and response/quirk_NAME_N; fails when a rewrite no
longer applies.
"""
import os
import re
import sys


CHUNK = re.compile(b"[\x1d\x1e]")


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def rewrite(corpus, source, name, pattern, replacement, count=0):
    with open(os.path.join(corpus, "sync", source), "rb") as f:
        data = f.read()
    new, n = re.subn(pattern, replacement, data, count=count)
    if n == 0:
        sys.exit(f"quirks.py: {name}: {pattern!r} not found in {source}")
    write(os.path.join(corpus, "sync", "quirk_" + name), new)
    old_chunks = set(CHUNK.split(data[1:]))
    changed = [c for c in CHUNK.split(new[1:]) if c not in old_chunks]
    for i, chunk in enumerate(changed[:2], 1):
        reply = chunk.replace(b"$T", b"K7")
        write(os.path.join(corpus, "framer", f"quirk_{name}_{i}"), b"\x00\x00" + reply)
        write(os.path.join(corpus, "response", f"quirk_{name}_{i}"), b"\x0f" + reply)


def main():
    corpus = sys.argv[1]
    # Quirk(Cyrus 3.6): MAILBOXID asked with other STATUS items comes back as
    # raw bytes (tests/imap/quirks_test.cpp); here in the MAILBOXID-only LIST.
    rewrite(corpus, "cyrus_best", "cyrus_mailboxid_garbage",
            rb"MAILBOXID \([0-9a-z]+\)", b"MAILBOXID (\xc4\xf8^\x89kU)")
    # ... and inside the LIST-STATUS reply, between the items asked for.
    rewrite(corpus, "cyrus_best", "cyrus_mailboxid_in_list_status",
            rb"\(MESSAGES (\d+) UIDNEXT", b"(MESSAGES \\1 MAILBOXID (-?&]\xbbU) UIDNEXT")
    # Quirk(various): an empty body as "" or NIL instead of a literal.
    rewrite(corpus, "dovecot_best", "empty_body_quoted",
            rb"BODY\[\] \{(\d+)\}\r\n", b'BODY[] "" X-SKIPPED {\\1}\r\n', count=1)
    rewrite(corpus, "dovecot_best", "body_nil", rb"BODY\[\] \{\d+\}\r\n[^)]*\)", b"BODY[] NIL)", count=2)
    # Quirk(various): 8-bit mailbox names without UTF8=ACCEPT.
    rewrite(corpus, "dovecot_best", "eight_bit_name", rb"Caf&AOk-", "Café".encode())
    # Quirk(various): a day as " 2", "02" or a bare "2" in INTERNALDATE.
    rewrite(corpus, "dovecot_best", "bare_day", rb'INTERNALDATE "0(\d)-', rb'INTERNALDATE "\1-')
    rewrite(corpus, "cyrus_best", "space_day", rb'INTERNALDATE " (\d)-', rb'INTERNALDATE "0\1-')
    # Quirk(various): "a1 OK" with no text after the status.
    rewrite(corpus, "dovecot_best", "bare_ok", rb"\$T OK [^\r]*\r\n", b"$T OK\r\n")
    # Quirk(imap.gmail.com): flags with brackets and slashes.
    rewrite(corpus, "dovecot_best", "gmail_flags", rb"FLAGS \(\\Recent\)",
            lambda m: b"FLAGS (\\Recent OIB-Seen-[Google Mail]/Alle)")
    # Quirk(outlook.com): extra SP between values.
    rewrite(corpus, "cyrus_best", "extra_space", rb"FETCH \(FLAGS \(", b"FETCH (FLAGS  (")


if __name__ == "__main__":
    main()
