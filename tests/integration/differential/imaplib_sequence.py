#!/usr/bin/env python3
"""Runs the differential command sequence through CPython's imaplib and prints
one JSON object per step, for tests/integration/imaplib_differential_test.cpp,
which runs the same steps through the C++ imaplib (imaplib_driver.cpp) against
the same Dovecot and compares the two outputs.

Usage: imaplib_sequence.py HOST PORT USER PASSWORD USER2 MAILBOX

Output per step: {"step": name, "type": typ, "data": [...]} or
{"step": name, "raises": "error"|"abort"|"readonly"}. Bytes are written as
latin-1 text; a (header, literal) tuple as a two-item list. Python's [None] is
written as [] and nested lists are flattened, which is how the C++ Response
represents them. Snapshots of untagged_responses are {"step": "ur ...",
"ur": {key: [...]}}.
"""
import imaplib
import json
import sys


def text(b):
    return b.decode("latin-1") if isinstance(b, bytes) else b


def datum_list(data):
    out = []
    for d in data:
        if d is None:
            continue
        if isinstance(d, list):
            out.extend(datum_list(d))
        elif isinstance(d, tuple):
            out.append([text(d[0]), text(d[1])])
        else:
            out.append(text(d))
    return out


def main():
    host, port, user, password, user2, box = sys.argv[1:7]
    sub = box + "/sub"
    msg1 = "From: a@example.org\nSubject: one\n\nfirst\n"
    msg2 = "From: b@example.org\r\nSubject: two\r\n\r\nsecond\r\n"

    def emit(obj):
        print(json.dumps(obj, sort_keys=True))
        sys.stdout.flush()

    M = imaplib.IMAP4(host, int(port))

    def step(name, fn):
        try:
            typ, data = fn()
            emit({"step": name, "type": typ, "data": datum_list(data)})
        except M.readonly:
            emit({"step": name, "raises": "readonly"})
        except M.abort:
            emit({"step": name, "raises": "abort"})
        except M.error:
            emit({"step": name, "raises": "error"})

    def info(name):
        emit({"step": name, "state": M.state, "capabilities": list(M.capabilities),
              "protocol": M.PROTOCOL_VERSION, "welcome": text(M.welcome)})

    def ur(name):
        emit({"step": name, "ur": {k: datum_list(v) for k, v in M.untagged_responses.items()}})

    info("connect")
    step("login bad", lambda: M.login(user, "wrong"))
    step("login", lambda: M.login(user, password))
    info("after login")
    ur("ur after login")
    step("capability", lambda: M.capability())
    step("noop", lambda: M.noop())
    step("namespace", lambda: M.namespace())
    step("create", lambda: M.create(box))
    step("create again", lambda: M.create(box))
    step("create sub", lambda: M.create(sub))
    step("create quoted", lambda: M.create('"%s/with space"' % box))
    step("list", lambda: M.list('""', box + "*"))
    step("list pct", lambda: M.list('""', box + "/%"))
    step("subscribe", lambda: M.subscribe(box))
    step("lsub", lambda: M.lsub('""', box + "*"))
    step("unsubscribe", lambda: M.unsubscribe(box))
    step("lsub empty", lambda: M.lsub('""', box + "*"))
    step("status", lambda: M.status(box, "(MESSAGES RECENT UIDNEXT UNSEEN)"))
    step("append 1", lambda: M.append(box, r"\Seen", '"01-Jan-2020 10:00:00 +0100"', msg1.encode()))
    step("append 2", lambda: M.append(box, None, '"02-Jan-2020 11:30:00 -0500"', msg2.encode()))
    step("append no mailbox", lambda: M.append(box + "/missing", None, None, msg1.encode()))
    step("fetch in AUTH", lambda: M.fetch("1", "(FLAGS)"))
    step("examine", lambda: M.select(box, readonly=True))
    ur("ur after examine")
    step("select", lambda: M.select(box))
    ur("ur after select")
    step("response FLAGS", lambda: M.response("FLAGS"))
    step("response PERMANENTFLAGS", lambda: M.response("permanentflags"))
    step("response missing", lambda: M.response("NOSUCHTHING"))
    step("search all", lambda: M.search(None, "ALL"))
    step("search seen", lambda: M.search(None, "SEEN"))
    step("search charset", lambda: M.search("UTF-8", "SUBJECT", "two"))
    step("search none", lambda: M.search(None, "DELETED"))
    step("search bad", lambda: M.search(None, "NOSUCHKEY"))
    step("fetch rfc822", lambda: M.fetch("1", "(RFC822)"))
    step("fetch many", lambda: M.fetch("1:*", "(FLAGS INTERNALDATE RFC822.SIZE)"))
    step("fetch header", lambda: M.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT])"))
    step("store add", lambda: M.store("2", "+FLAGS", r"\Flagged"))
    step("store set", lambda: M.store("1", "FLAGS", r"(\Seen \Answered)"))
    step("store silent", lambda: M.store("1", "+FLAGS.SILENT", r"(\Draft)"))
    step("uid search", lambda: M.uid("SEARCH", "ALL"))
    step("uid fetch", lambda: M.uid("FETCH", "1:*", "(FLAGS)"))
    step("uid store", lambda: M.uid("STORE", "2", "-FLAGS", r"(\Flagged)"))
    step("uid copy", lambda: M.uid("COPY", "1", sub))
    step("uid bogus", lambda: M.uid("BOGUS", "1"))
    step("sort", lambda: M.sort("REVERSE ARRIVAL", "UTF-8", "ALL"))
    step("uid sort", lambda: M.uid("SORT", "(SUBJECT)", "UTF-8", "ALL"))
    step("thread", lambda: M.thread("REFERENCES", "UTF-8", "ALL"))
    step("copy", lambda: M.copy("1:2", sub))
    step("check", lambda: M.check())
    step("recent", lambda: M.recent())
    step("recent again", lambda: M.recent())
    step("store deleted", lambda: M.store("1", "+FLAGS", r"(\Deleted)"))
    step("expunge", lambda: M.expunge())
    step("getacl", lambda: M.getacl(box))
    step("myrights", lambda: M.myrights(box))
    step("setacl", lambda: M.setacl(box, user2, "lr"))
    step("getacl after", lambda: M.getacl(box))
    step("deleteacl", lambda: M.deleteacl(box, user2))
    step("getquotaroot", lambda: M.getquotaroot("INBOX"))
    step("getquota", lambda: M.getquota('"User quota"'))
    step("setquota", lambda: M.setquota('"User quota"', "(STORAGE 512)"))
    step("xatom id", lambda: M.xatom("ID", "NIL"))
    step("response id", lambda: M.response("ID"))
    step("partial", lambda: M.partial("1", "RFC822", "0", "10"))
    step("proxyauth", lambda: M.proxyauth(user2))
    step("enable in SELECTED", lambda: M.enable("CONDSTORE"))
    step("unselect", lambda: M.unselect())
    info("after unselect")
    step("select again", lambda: M.select(box))
    step("close", lambda: M.close())
    info("after close")
    step("enable", lambda: M.enable("CONDSTORE"))
    step("response ENABLED", lambda: M.response("ENABLED"))
    step("rename", lambda: M.rename(sub, box + "/renamed"))
    step("status renamed", lambda: M.status(box + "/renamed", "(MESSAGES)"))
    step("delete renamed", lambda: M.delete(box + "/renamed"))
    step("delete quoted", lambda: M.delete('"%s/with space"' % box))
    step("delete", lambda: M.delete(box))
    step("delete again", lambda: M.delete(box))
    ur("ur before logout")
    step("logout", lambda: M.logout())
    info("after logout")


if __name__ == "__main__":
    main()
