#!/usr/bin/env python3
"""The benchmark's deterministic corpus, written straight into a Maildir++
tree (the one Dovecot serves for a user), never through APPEND.

Every message is a function of (seed, tag, index) alone, so the same
arguments give the same bytes on every machine and a message added later
does not change the earlier ones:
  - bodies: log-normal sizes, median 3 KB, text cut from a fixed word pool;
  - 2% carry a base64 attachment of 0.1-2 MB (encoded size);
  - UTF-8 subjects, RFC 2047 encoded; distinct Message-IDs and Dates;
  - Maildir flags: a mix of S (\\Seen), F (\\Flagged) and R (\\Answered).
Files get the owner of ROOT's parent (Dovecot's mail user) and the Date as
mtime (Dovecot's INTERNALDATE for Maildir).

  corpus.py generate ROOT --layout INBOX:10000,Archive:7000 [--seed S] [--tag T]
  corpus.py huge ROOT --mb 200 [--tag T]          one message of that size in INBOX
  corpus.py change ROOT --flags K --expunge K --new K [--seed S] [--tag T]
      flags changed on K messages, K files deleted, K new ones (in new/);
      the same arguments on the same tree make the same change.
Each prints one JSON line: {"messages": N, "bytes": B}.
"""
import argparse
import base64
import email.header
import email.utils
import json
import math
import os
import random

START = 1420070400  # 2015-01-01T00:00:00Z
SPACING = 600       # seconds between two messages' Dates: each gets its own slot
SUBJECTS = [
    "Grüße aus München", "Réunion de l'équipe à 10h", "Привет, как дела?",
    "日本語の件名テスト", "Ελληνικά και λίγο ακόμα", "Zażółć gęślą jaźń",
    "Ärger mit der Übersetzung", "Invoice № 4711 — paid", "📬 New mail in your box",
    "Çalışma planı ve öneriler", "Hello again", "Quarterly report (draft)",
]


class Pool:
    """A fixed block of wrapped text that bodies are cut from."""

    def __init__(self, size=4 << 20):
        rng = random.Random(7)
        letters = "abcdefghijklmnopqrstuvwxyzäöüéè"
        words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 10))) for _ in range(3000)]
        lines, line, total = [], [], 0
        while total < size:
            line.append(rng.choice(words))
            if sum(len(w) + 1 for w in line) > 70:
                text = " ".join(line)
                lines.append(text)
                total += len(text.encode()) + 1
                line = []
        self.text = ("\n".join(lines) + "\n").encode()

    def cut(self, rng, size):
        size = min(size, len(self.text) // 2)
        start = self.text.index(b"\n", rng.randrange(len(self.text) // 2)) + 1
        end = self.text.index(b"\n", start + size) + 1
        return self.text[start:end]


def header(rng, index, tag, date):
    subject = "%s #%d" % (rng.choice(SUBJECTS), index)
    return (
        "From: Sender %d <sender%d@example.org>\n"
        "To: Bench <bench@example.org>\n"
        "Subject: %s\n"
        "Date: %s\n"
        "Message-ID: <%d.%s@bench.example>\n"
        "MIME-Version: 1.0\n"
        % (rng.randrange(500), rng.randrange(500), email.header.Header(subject, "utf-8").encode(),
           email.utils.formatdate(date), index, tag)
    ).encode()


def attachment_part(rng, encoded_size, boundary):
    raw = rng.randbytes(encoded_size * 3 // 4)
    return (
        b"--" + boundary + b"\nContent-Type: application/octet-stream; name=\"data.bin\"\n"
        b"Content-Transfer-Encoding: base64\n"
        b"Content-Disposition: attachment; filename=\"data.bin\"\n\n"
        + base64.encodebytes(raw)
    )


def body(rng, pool, attachment_size):
    text = pool.cut(rng, max(200, int(rng.lognormvariate(math.log(3000), 1.2))))
    plain = b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
    if not attachment_size:
        return plain + text
    boundary = b"bench-%08x" % rng.getrandbits(32)
    return (
        b"Content-Type: multipart/mixed; boundary=\"" + boundary + b"\"\n\n"
        b"--" + boundary + b"\n" + plain + text
        + attachment_part(rng, attachment_size, boundary)
        + b"--" + boundary + b"--\n"
    )


def flags_of(rng):
    flags = ""
    if rng.random() < 0.05:
        flags += "F"
    if rng.random() < 0.10:
        flags += "R"
    if rng.random() < 0.70:
        flags += "S"
    return flags


def message(pool, seed, tag, index, slot=None):
    """(bytes, flags, date) of message `index`: depends on nothing else. Its
    Date lies in time slot `slot` (default: `index`)."""
    rng = random.Random("%d/%s/%d" % (seed, tag, index))
    date = START + (index if slot is None else slot) * SPACING + rng.randrange(SPACING)
    attachment = rng.randint(100_000, 2_000_000) if rng.random() < 0.02 else 0
    data = header(rng, index, tag, date)
    return data + body(rng, pool, attachment), flags_of(rng), date


def folder(root, mailbox):
    """Maildir++: INBOX is ROOT itself, A/B is ROOT/.A.B"""
    path = root if mailbox == "INBOX" else os.path.join(root, "." + mailbox.replace("/", "."))
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    if mailbox != "INBOX":
        open(os.path.join(path, "maildirfolder"), "a").close()
    return path


def file_name(tag, index, data, date, flags):
    # S= and W= (size with CRLF line ends) spare Dovecot a stat and a read.
    return "%d.M%dP0.bench-%s,S=%d,W=%d:2,%s" % (date, index, tag, len(data), len(data) + data.count(b"\n"), flags)


def write(path, data, date, owner):
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, (date, date))
    os.chown(path, *owner)


def chown_tree(root, owner):
    for top, dirs, files in os.walk(root):
        for name in [top] + [os.path.join(top, d) for d in dirs]:
            os.chown(name, *owner)


def owner_of(root):
    st = os.stat(os.path.dirname(os.path.abspath(root)))
    return st.st_uid, st.st_gid


def generate(args):
    pool, owner = Pool(), owner_of(args.root)
    index, total = 0, 0
    for item in args.layout.split(","):
        mailbox, count = item.rsplit(":", 1)
        path = folder(args.root, mailbox)
        for _ in range(int(count)):
            data, flags, date = message(pool, args.seed, args.tag, index)
            write(os.path.join(path, "cur", file_name(args.tag, index, data, date, flags)), data, date, owner)
            index += 1
            total += len(data)
    chown_tree(args.root, owner)
    return {"messages": index, "bytes": total}


def huge(args):
    owner = owner_of(args.root)
    path = folder(args.root, "INBOX")
    rng = random.Random("%d/%s/huge" % (args.seed, args.tag))
    date = START
    head = header(rng, 0, args.tag, date)
    target = args.mb * 1_000_000
    boundary = b"bench-huge"
    data = (head + b"Content-Type: multipart/mixed; boundary=\"" + boundary + b"\"\n\n"
            + b"--" + boundary + b"\nContent-Type: text/plain\n\none large attachment\n"
            + attachment_part(rng, target, boundary) + b"--" + boundary + b"--\n")
    write(os.path.join(path, "cur", file_name(args.tag, 0, data, date, "S")), data, date, owner)
    chown_tree(args.root, owner)
    return {"messages": 1, "bytes": len(data)}


def message_files(root):
    found = []
    for top, _, files in os.walk(root):
        if os.path.basename(top) in ("cur", "new"):
            found += [os.path.join(top, f) for f in files]
    return sorted(found)


def toggled(path, rng):
    """The same file with F toggled and, every other time, S too."""
    base, _, flags = path.rpartition(":2,")
    flags = set(flags)
    flags ^= {"F"} | ({"S"} if rng.random() < 0.5 else set())
    return base + ":2," + "".join(sorted(flags))


def change(args):
    pool, owner = Pool(), owner_of(args.root)
    rng = random.Random("%d/%s/change" % (args.seed, args.tag))
    files = message_files(args.root)
    picked = rng.sample(files, args.flags + args.expunge)
    for path in picked[: args.flags]:
        os.rename(path, toggled(path, rng))
    for path in picked[args.flags:]:
        os.unlink(path)
    folders = sorted({os.path.dirname(os.path.dirname(p)) for p in files})
    first, total = 10_000_000, 0  # indexes far past any generated corpus
    for i in range(args.new):
        data, _, date = message(pool, args.seed, args.tag, first + i, slot=-1 - i)
        path = os.path.join(folders[i % len(folders)], "new", file_name(args.tag, first + i, data, date, "")[:-3])
        write(path, data, date, owner)
        total += len(data)
    return {"messages": args.new, "bytes": total}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("generate", "huge", "change"):
        p = sub.add_parser(name)
        p.add_argument("root")
        p.add_argument("--seed", type=int, default=1)
        p.add_argument("--tag", default="main")
    sub.choices["generate"].add_argument("--layout", required=True)
    sub.choices["huge"].add_argument("--mb", type=int, default=200)
    for flag in ("--flags", "--expunge", "--new"):
        sub.choices["change"].add_argument(flag, type=int, required=True)
    args = parser.parse_args()
    print(json.dumps({"generate": generate, "huge": huge, "change": change}[args.command](args)))


if __name__ == "__main__":
    main()
