#!/usr/bin/env python3
"""The scenarios of issue 10, run against the servers that bench/run.sh
started (read from their env file), with the binaries it built.

Each scenario runs imapkeep, its peer and its floors alternately (the order
rotates every round), `--rounds` times, and keeps every sample; report.py
turns the medians into the table, the CSV and the chart. Accounts:
  user1  the main corpus (scenarios 1-6, 9), reset to a snapshot after a change
  user2  the empty target of every restore, wiped before each one
  user3  1,000 mailboxes of 20 messages (scenario 7)
  user4  one large message (scenario 8)
"""
import argparse
import imaplib
import json
import os
import re
import subprocess
import sys
import time

import measure
import report
from measure import Failed, Trash, clone_tree, counted, read_env, remove, run

HERE = os.path.dirname(os.path.abspath(__file__))
ALL_SCENARIOS = "1,2,3,4,5,6,7,8,9"
MAIN_CORPUS_SCENARIOS = "1,2,3,4,5,6,9"  # 7 and 8 have their own accounts
MANY_MAILBOXES, MANY_PER_MAILBOX = 1000, 20
# A folder's stamp vouches only for directories unchanged this long
# (MaildirOptions::stamp_settle, 2 s), plus a margin.
STAMP_SETTLE = 2.2
# How old a Maildir directory must be for Dovecot to trust its last scan of it
# (maildir-sync.c reads cur/ and new/ again while they are younger than its
# MAILDIR_SYNC_SECS, 1 s, against its last look), with a margin.
MAILDIR_DIRTY_SECS = 2.2


class Part:
    """One participant of a scenario: a command, what to do before it (not
    timed), and a check of its result (not timed) that raises on a wrong one."""

    def __init__(self, tool, role, command, prepare=None, check=None):
        self.tool, self.role, self.command = tool, role, command
        self.prepare, self.check = prepare, check


class CheckFailed(Exception):
    pass


def wait_until_old(tree, seconds):
    """Sleeps until every directory under `tree` last changed `seconds` ago."""
    newest = max(os.stat(top).st_mtime for top, _, _ in os.walk(tree))
    time.sleep(max(0.0, newest + seconds - time.time()))


def expect(what, got, want):
    if got != want:
        raise CheckFailed("%s: got %s, expected %s" % (what, got, want))


class Bench:
    def __init__(self, args):
        self.args = args
        self.env = read_env(args.env)
        self.work = args.work
        self.host = self.env["IMAPKEEP_TEST_HOST"]
        self.port = self.env["IMAPKEEP_TEST_IMAP_PORT"]
        self.mail = os.path.join(self.env["IMAPKEEP_TEST_DIR"], "mail")
        self.users = {
            "main": ("user1", self.env["IMAPKEEP_TEST_PASSWORD"]),
            "target": ("user2", self.env["IMAPKEEP_TEST_PASSWORD2"]),
            "many": ("user3", self.env["IMAPKEEP_TEST_PASSWORD3"]),
            "huge": ("user4", self.env["IMAPKEEP_TEST_PASSWORD4"]),
        }
        build = args.build
        self.imapkeep = os.path.join(build, "imapkeep")
        self.tool = {name: os.path.join(build, "bench", "bench_" + name)
                     for name in ("raw_fetch", "protocol_floor", "write_floor", "imaplib_fetch", "change_floor")}
        self.samples, self.failures, self.facts, self.cases = [], [], {}, []
        self.trash = Trash(self.path("trash"))

    # --- paths, commands and configs ------------------------------------------
    def path(self, *names):
        return os.path.join(self.work, *names)

    def root(self, who):
        return os.path.join(self.mail, self.users[who][0])

    def login(self, who):
        return [self.host, self.port, *self.users[who]]

    def raw(self, who):
        return [self.tool["raw_fetch"], *self.login(who)]

    def protocol(self, who):
        return [self.tool["protocol_floor"], *self.login(who)]

    def account_toml(self, name, who, extra=""):
        user, password = self.users[who]
        return ('[[account]]\nname = "%s"\nhost = "%s"\nport = %s\ntls = "none"\nuser = "%s"\n'
                'password = "%s"\nallow_plaintext_auth = true\nmailboxes = ["*"]\n%s\n'
                % (name, self.host, self.port, user, password, extra))

    def ssh_account_toml(self, engine):
        e = self.env
        return ('[[account]]\nname = "main"\nuser = "%s"\nmailboxes = ["*"]\n[account.ssh]\n'
                'host = "%s"\nport = %s\nuser = "%s"\nidentity = "%s"\nknown_hosts = "%s"\ncommand = "%s"\n'
                'engine = "%s"\n'
                % (self.users["main"][0], self.host, e["IMAPKEEP_TEST_SSH_PORT"], e["IMAPKEEP_TEST_SSH_USER"],
                   e["IMAPKEEP_TEST_SSH_KEY"], e["IMAPKEEP_TEST_SSH_KNOWN_HOSTS"],
                   e["IMAPKEEP_TEST_STREAM_COMMAND"], engine))

    def ik_config(self, name, store, who="main", extra="", target=False, ssh=None):
        """An imapkeep config: account "main" (and "target" for restores);
        ssh = "libssh2" or "openssh" reaches it over SSH exec with that engine."""
        text = '[store]\npath = "%s"\n\n' % store
        text += self.ssh_account_toml(ssh) if ssh else self.account_toml("main", who, extra)
        if target:
            text += self.account_toml("target", "target")
        path = self.path("config", name + ".toml")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return path

    def backup(self, config):
        return [self.imapkeep, "backup", "--config", config, "--account", "main", "-q"]

    def restore(self, config):
        return [self.imapkeep, "restore", "--config", config, "--account", "main", "--to", "target", "-q"]

    def mbsyncrc(self, name, maildir, who, push=False):
        """mbsync pulling `who` into `maildir` (Create Near, Sync Pull), or
        pushing `maildir` into `who` (Create Far, Sync Push, state kept apart)."""
        user, password = self.users[who]
        state = "SyncState *" if not push else "SyncState %s/" % self.path("mbsync-state", name)
        text = (
            "IMAPAccount far\nHost %s\nPort %s\nUser %s\nPass \"%s\"\nSSLType None\nAuthMechs LOGIN\n\n"
            "IMAPStore far\nAccount far\n\n"
            "MaildirStore near\nPath %s/\nInbox %s/INBOX\nSubFolders Verbatim\n\n"
            "Channel bench\nFar :far:\nNear :near:\nPatterns *\n%s\n%s\n"
            % (self.host, self.port, user, password, maildir, maildir,
               "Create Far\nSync Push" if push else "Create Near\nSync Pull", state))
        path = self.path("config", name + ".mbsyncrc")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return ["mbsync", "-q", "-c", path, "bench"]

    # --- server state -----------------------------------------------------------
    def corpus(self, *args):
        out = subprocess.run([sys.executable, os.path.join(HERE, "corpus.py"), *args],
                             check=True, stdout=subprocess.PIPE, text=True).stdout
        return json.loads(out)

    def settle(self, who):
        """Opens every mailbox of `who` once as a CONDSTORE mail client does
        (read-write, MODSEQ asked): the steady state of a mailbox in use.
        Dovecot keeps per-message MODSEQs only once a CONDSTORE client has
        asked for them; before that, its first such session gives every
        message a new MODSEQ, and a changed-since run would see the whole
        folder as changed (each round, as the server tree is restored)."""
        imap = imaplib.IMAP4(self.host, int(self.port))
        imap.login(*self.users[who])
        imap.enable("CONDSTORE")
        for line in imap.list()[1]:  # (\HasNoChildren) "." "Sent Items"
            name = re.match(r'\(.*?\) (?:"[^"]*"|NIL) (.*)$', line.decode()).group(1)
            typ, data = imap.select(name)
            if typ == "OK" and int(data[0]) > 0:
                imap.fetch("1:*", "(MODSEQ)")
            imap.close()
        imap.logout()

    def index(self, who, messages):
        """Makes Dovecot index `who`'s Maildir now, and warms the page cache,
        so that no measured tool pays for it: the mailboxes settled, then a
        full raw fetch, checked, then each mailbox opened once more, once the
        Maildir's directories are old enough for Dovecot to trust. Dovecot
        reads a whole cur/ again at every open while the directory changed
        less than a second or two before its last look (a "dirty" Maildir):
        16-19 ms for INBOX's 10,000 files, then 0.4 ms once an open found it
        old. The corpus writes straight into the Maildir, which a mail server's
        own delivery and its IMAP clients never leave dirty; without this,
        whichever tool ran first after a change paid that read inside its
        timed run."""
        self.settle(who)
        _, _, out = run(self.raw(who))
        expect("messages the server holds for %s" % self.users[who][0], counted(out, "messages"), messages)
        wait_until_old(self.root(who), MAILDIR_DIRTY_SECS)
        self.open_each(who)

    @staticmethod
    def listed_names(imap):
        """Every mailbox name as LIST sent it (an atom or a quoted string)."""
        return [re.match(r'\(.*?\) (?:"[^"]*"|NIL) (.*)$', line.decode()).group(1) for line in imap.list()[1]]

    def open_each(self, who):
        imap = imaplib.IMAP4(self.host, int(self.port))
        imap.login(*self.users[who])
        for name in self.listed_names(imap):
            imap.select(name, readonly=True)
        imap.logout()

    def wipe(self, who):
        """An empty account again (its mailboxes made by the first login)."""
        self.trash.discard(self.root(who))
        run(self.protocol(who))

    def setup_main(self):
        n = self.args.messages
        layout = "INBOX:%d,Archive:%d,Lists:%d" % (n - n * 35 // 100 - n * 15 // 100, n * 35 // 100, n * 15 // 100)
        self.trash.discard(self.root("main"))
        # A new corpus has new UIDVALIDITYs: stores of an earlier one would
        # make every later scenario start with a full resync.
        for stale in ("ik-cold", "mb-cold", "wf-cold"):
            self.trash.discard(self.path(stale))
        made = self.corpus("generate", self.root("main"), "--layout", layout, "--tag", "main")
        self.facts["messages"], self.facts["bytes"] = made["messages"], made["bytes"]
        self.index("main", n)
        clone_tree(self.root("main"), self.path("server-base"))

    def reset_main(self):
        clone_tree(self.path("server-base"), self.root("main"))

    def change_main(self):
        """The 1% change of scenarios 3 and 4, the same every round."""
        n = self.facts["messages"]
        k = max(1, n // 200)
        self.reset_main()
        made = self.corpus("change", self.root("main"), "--flags", str(2 * k), "--expunge", str(k), "--new", str(k))
        self.facts["change"] = {"flags": 2 * k, "expunged": k, "new": k, "new_bytes": made["bytes"]}
        self.index("main", n)

    def setup_many(self):
        layout = ",".join("Box%04d:%d" % (i + 1, MANY_PER_MAILBOX) for i in range(MANY_MAILBOXES))
        self.trash.discard(self.root("many"))
        self.corpus("generate", self.root("many"), "--layout", layout, "--tag", "many")
        self.index("many", MANY_MAILBOXES * MANY_PER_MAILBOX)

    def setup_huge(self):
        self.trash.discard(self.root("huge"))
        made = self.corpus("huge", self.root("huge"), "--mb", str(self.args.huge_mb), "--tag", "huge")
        self.facts["huge_bytes"] = made["bytes"]
        self.index("huge", 1)

    # --- checks ----------------------------------------------------------------
    @staticmethod
    def files_in(tree):
        return sum(len(files) for top, _, files in os.walk(tree)
                   if os.path.basename(top) in ("cur", "new"))

    @staticmethod
    def bytes_in(tree):
        return sum(os.path.getsize(os.path.join(top, f)) for top, _, files in os.walk(tree) for f in files)

    def store_holds(self, store, n, attic=0):
        def check(out):
            expect("message files in %s/mail" % store, self.files_in(os.path.join(store, "mail")), n)
            expect("message files in %s/attic" % store, self.files_in(os.path.join(store, "attic")), attic)
        return check

    def maildir_holds(self, maildir, n):
        return lambda out: expect("message files in " + maildir, self.files_in(maildir), n)

    def printed(self, word, n):
        return lambda out: expect(word + " printed", counted(out, word), n)

    @staticmethod
    def nothing_changed(out):
        """A no-change run's --json report: nothing fetched, changed or reset."""
        report_json, _ = json.JSONDecoder().raw_decode(out[out.index("{"):])
        mailboxes = [m for a in report_json["accounts"] for m in a["mailboxes"]]
        for key in ("new", "expunged", "flag_changes", "uidvalidity_reset"):
            expect("%s in the no-change run's report" % key, sum(int(m.get(key, 0)) for m in mailboxes), 0)

    @staticmethod
    def report_shows(out, path, **totals):
        """imapkeep's --json report: the changed mailboxes went `path`, and
        the change's counts add up."""
        report_json, _ = json.JSONDecoder().raw_decode(out[out.index("{"):])
        mailboxes = [m for a in report_json["accounts"] for m in a["mailboxes"]]
        changed = [m for m in mailboxes if any(m[key] for key in totals)]
        expect("sync paths of the changed mailboxes", sorted({m["path"].lower() for m in changed}), [path])
        for key, want in totals.items():
            expect("%s in the run report" % key, sum(m[key] for m in mailboxes), want)

    def target_holds(self, n):
        def check(out):
            _, _, status = run(self.protocol("target"))
            expect("messages in the restore target", counted(status, "messages"), n)
        return check

    # --- rounds ------------------------------------------------------------------
    def rounds(self, scenario, case, parts, before_round=None):
        self.cases.append((scenario, case))
        for r in range(self.args.rounds):
            if before_round:
                before_round()
            shift = r % len(parts)
            for part in parts[shift:] + parts[:shift]:
                self.measure_once(scenario, case, part, r)
        self.trash.empty()

    def measure_once(self, scenario, case, part, r):
        if part.prepare:
            part.prepare()
        os.sync()  # earlier writeback must not land on this run
        self.trash.wait_for_fresh_inodes()
        label = "scenario %s %s, %s, round %d" % (scenario, case, part.tool, r + 1)
        try:
            seconds, rss, out = run(part.command)
            if part.check:
                part.check(out)
        except (Failed, CheckFailed) as e:
            self.failures.append((scenario, case, part.tool))
            print("FAILED: %s\n  command: %s\n  %s" % (label, " ".join(part.command),
                                                       str(e).replace("\n", "\n  ")), flush=True)
            return
        self.samples.append({"scenario": scenario, "case": case, "tool": part.tool, "role": part.role,
                             "round": r + 1, "seconds": seconds, "rss_mb": rss})
        print("  %-48s %8.3f s %7.1f MB" % (label, seconds, rss), flush=True)

    # --- the stores a cold backup leaves, which scenarios 2-5 start from --------
    def cold_parts(self, who, ik_store, mb_dir, wf_dir, n, tag):
        config = self.ik_config("cold-" + tag, ik_store, who)
        return [
            Part("imapkeep", "imapkeep", self.backup(config), lambda: self.trash.discard(ik_store),
                 self.store_holds(ik_store, n)),
            Part("mbsync", "peer", self.mbsyncrc("pull-" + tag, mb_dir, who),
                 lambda: (self.trash.discard(mb_dir), os.makedirs(mb_dir)), self.maildir_holds(mb_dir, n)),
            Part("raw fetch", "floor", self.raw(who), None, self.printed("messages", n)),
            Part("write floor", "floor", [self.tool["write_floor"], self.root(who), wf_dir],
                 lambda: self.trash.discard(wf_dir), self.printed("files", n)),
        ]

    def ensure_cold_stores(self):
        """Scenarios 2-5 start from the stores of scenario 1; made untimed when
        scenario 1 was not asked for."""
        ik, mb = self.path("ik-cold"), self.path("mb-cold")
        n = self.facts["messages"]
        for part in self.cold_parts("main", ik, mb, self.path("wf-cold"), n, "main")[:2]:
            try:
                part.check("")  # complete already (scenario 1 ran)?
            except CheckFailed:
                part.prepare()
                run(part.command)
                part.check("")

    # --- the scenarios -------------------------------------------------------------
    def scenario_1(self):
        n = self.facts["messages"]
        self.rounds("1", "cold full backup",
                    self.cold_parts("main", self.path("ik-cold"), self.path("mb-cold"), self.path("wf-cold"), n, "main"))

    def scenario_2(self):
        self.ensure_cold_stores()
        n = self.facts["messages"]
        self.rounds("2", "no-change run", [
            Part("imapkeep", "imapkeep", self.backup(self.ik_config("cold-main", self.path("ik-cold"))) + ["--json"],
                 None, self.nothing_changed),
            Part("mbsync", "peer", self.mbsyncrc("pull-main", self.path("mb-cold"), "main")),
            Part("protocol floor", "floor", self.protocol("main"), None, self.printed("messages", n)),
        ])

    def known_state(self, who):
        """Each mailbox's UIDVALIDITY, HIGHESTMODSEQ and UIDNEXT as the
        account stands now: what a client knows from its last run."""
        imap = imaplib.IMAP4(self.host, int(self.port))
        imap.login(*self.users[who])
        state = []
        for name in self.listed_names(imap):
            _, data = imap.status(name, "(UIDVALIDITY HIGHESTMODSEQ UIDNEXT)")
            values = dict(re.findall(r"(UIDVALIDITY|HIGHESTMODSEQ|UIDNEXT) (\d+)", data[0].decode()))
            state += [name.strip('"'), values["UIDVALIDITY"], values["HIGHESTMODSEQ"], values["UIDNEXT"]]
        imap.logout()
        return state

    def change_floor(self, path, known):
        """The protocol floor of the 1% change (floor/change_floor.cpp): the
        server's work for a client that does nothing but the protocol."""
        k = max(1, self.facts["messages"] // 200)

        def check(out):
            if counted(out, "messages") < k:
                raise CheckFailed("change floor: %d FETCH responses, expected at least the %d new" %
                                  (counted(out, "messages"), k))

        def prepare():
            self.reset_main()
            self.change_main()

        return Part("change floor", "floor", [self.tool["change_floor"], *self.login("main"), path, *known],
                    prepare, check)

    def changed_run(self, scenario, case, extra, path):
        self.ensure_cold_stores()
        n = self.facts["messages"]
        k = max(1, n // 200)
        self.reset_main()
        self.index("main", n)
        known = self.known_state("main")
        ik, mb = self.path("ik-change"), self.path("mb-change")
        store_ok = self.store_holds(ik, n, attic=k)
        config = self.ik_config("change-" + scenario, ik, extra=extra)

        def check_ik(out):
            store_ok(out)
            self.report_shows(out, path, new=k, expunged=k, flag_changes=2 * k)

        def ik_since_its_last_run():
            """The cold store as its last run left it. A copy has new
            directories, whose stamps (inode, change time) no longer match
            the ones the catalog keeps, so imapkeep would list and check
            every folder, as after any outside change; a user's store,
            untouched since the last backup, costs no listing. Untimed: the
            copy, STAMP_SETTLE for the stamps to vouch, a no-change run on
            the unchanged server that stamps every folder again, then the
            round's change."""
            self.reset_main()
            self.index("main", n)
            clone_tree(self.path("ik-cold"), ik)
            time.sleep(STAMP_SETTLE)
            run(self.backup(config))
            self.change_main()

        def mb_since_its_last_run():
            clone_tree(self.path("mb-cold"), mb)
            self.change_main()

        self.rounds(scenario, case, [
            Part("imapkeep", "imapkeep", self.backup(config) + ["--json"], ik_since_its_last_run, check_ik),
            Part("mbsync", "peer", self.mbsyncrc("change", mb, "main"), mb_since_its_last_run,
                 self.maildir_holds(mb, n + k)),
            self.change_floor(path, known),
        ])
        self.reset_main()
        self.index("main", n)

    def scenario_3(self):
        self.changed_run("3", "1% changed", "", "qresync")

    def scenario_4(self):
        self.changed_run("4", "1% changed, no CONDSTORE", 'disable_extensions = ["CONDSTORE", "QRESYNC"]', "plain")

    def restore_parts(self, tag, who, ik_source, mb_source, n):
        ik, mb = self.path("ik-restore-" + tag), self.path("mb-restore-" + tag)
        config = self.ik_config("restore-" + tag, ik, who, target=True)

        def prepare_ik():
            self.wipe("target")
            clone_tree(ik_source, ik)

        def prepare_mb():
            self.wipe("target")
            remove(self.path("mbsync-state", "push-" + tag))
            os.makedirs(self.path("mbsync-state", "push-" + tag))
            # mbsync's state belongs to the account it pulled from.
            clone_tree(mb_source, mb, skip=lambda name: name.startswith(".mbsyncstate"))

        return [
            Part("imapkeep", "imapkeep", self.restore(config), prepare_ik, self.target_holds(n)),
            Part("mbsync", "peer", self.mbsyncrc("push-" + tag, mb, "target", push=True), prepare_mb,
                 self.target_holds(n)),
        ]

    def scenario_5(self):
        self.ensure_cold_stores()
        n = self.facts["messages"]
        self.rounds("5", "restore", self.restore_parts("main", "main", self.path("ik-cold"), self.path("mb-cold"), n))
        self.wipe("target")

    def scenario_6(self):
        n = self.facts["messages"]
        self.rounds("6", "library fetch-all", [
            Part("imaplib (C++)", "imapkeep", [self.tool["imaplib_fetch"], *self.login("main")], None,
                 self.printed("messages", n)),
            Part("python3 imaplib", "peer", [sys.executable, os.path.join(HERE, "imaplib_fetch.py"),
                                             *self.login("main")], None, self.printed("messages", n)),
            Part("raw fetch", "floor", self.raw("main"), None, self.printed("messages", n)),
        ])

    def scenario_7(self):
        self.setup_many()
        n = MANY_MAILBOXES * MANY_PER_MAILBOX
        ik, mb = self.path("ik-many"), self.path("mb-many")
        self.rounds("7", "many mailboxes, cold", self.cold_parts("many", ik, mb, self.path("wf-many"), n, "many"))
        self.rounds("7", "many mailboxes, no-change", [
            Part("imapkeep", "imapkeep", self.backup(self.ik_config("cold-many", ik, "many"))),
            Part("mbsync", "peer", self.mbsyncrc("pull-many", mb, "many")),
            Part("protocol floor", "floor", self.protocol("many"), None, self.printed("messages", n)),
        ])

    def scenario_8(self):
        self.setup_huge()
        ik, mb = self.path("ik-huge"), self.path("mb-huge")
        parts = self.cold_parts("huge", ik, mb, self.path("wf-huge"), 1, "huge")[:2]
        self.rounds("8", "%d MB message, backup" % self.args.huge_mb, parts)
        self.rounds("8", "%d MB message, restore" % self.args.huge_mb, self.restore_parts("huge", "huge", ik, mb, 1))
        self.wipe("target")
        out = self.path("huge-export")  # one .mbox file per mailbox
        config = self.ik_config("cold-huge", ik, "huge")
        self.rounds("8", "%d MB message, export" % self.args.huge_mb, [
            Part("imapkeep", "imapkeep",
                 [self.imapkeep, "export", "--config", config, "--account", "main", "--format", "mbox",
                  "--output", out, "-q"], lambda: self.trash.discard(out),
                 lambda _: expect("the export holds at least the message's bytes",
                                  self.bytes_in(out) >= self.facts["huge_bytes"], True)),
        ])

    def scenario_9(self):
        """Each SSH engine against plain TCP, in rounds of their own: the
        libssh2 engine (the default) and OpenSSH's ssh (engine = "openssh")."""
        n = self.facts["messages"]
        tcp = self.path("ik-tcp")
        for engine in ("libssh2", "openssh"):
            ssh = self.path("ik-ssh-" + engine)
            self.rounds("9", "cold backup over SSH exec, %s" % engine, [
                Part("imapkeep ssh %s" % engine, "imapkeep", self.backup(self.ik_config("ssh-" + engine, ssh, ssh=engine)),
                     lambda ssh=ssh: self.trash.discard(ssh), self.store_holds(ssh, n)),
                Part("imapkeep tcp", "peer", self.backup(self.ik_config("tcp", tcp)),
                     lambda: self.trash.discard(tcp), self.store_holds(tcp, n)),
            ])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", required=True, help="env file written by scripts/test-env/up.sh")
    parser.add_argument("--build", required=True, help="build dir holding imapkeep and bench/bench_*")
    parser.add_argument("--work", required=True, help="scratch dir on the file system to measure")
    parser.add_argument("--out", required=True, help="where the CSV and PNG go")
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scenarios", default=ALL_SCENARIOS)
    parser.add_argument("--huge-mb", type=int, default=200)
    args = parser.parse_args()
    chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in ALL_SCENARIOS.split(",")]
    if unknown:
        parser.error("unknown scenario(s) %s; choose from %s" % (",".join(unknown), ALL_SCENARIOS))

    bench = Bench(args)
    if set(chosen) & set(MAIN_CORPUS_SCENARIOS.split(",")):
        print("bench: generating the corpus (%d messages) and indexing it" % args.messages, flush=True)
        bench.setup_main()
        print("bench: %d messages, %.0f MB, %d round(s)" % (bench.facts["messages"], bench.facts["bytes"] / 1e6,
                                                         args.rounds), flush=True)
    for scenario in chosen:
        try:
            getattr(bench, "scenario_" + scenario)()
        except (Failed, CheckFailed, subprocess.CalledProcessError) as e:
            # A step around the measured runs (a corpus, a reset) failed: the
            # scenario has no figures, the others still run.
            bench.cases.append((scenario, "setup"))
            bench.failures.append((scenario, "setup", "bench"))
            print("FAILED: scenario %s, setup\n  %s" % (scenario, str(e).replace("\n", "\n  ")), flush=True)
    ok = report.write(bench.cases, bench.samples, bench.failures, bench.facts, args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
