#!/usr/bin/env python3
"""The fleet benchmark of issue 13: accounts per hour and MB/s of 1, 2 and 4
workers on one machine, for each store backend, with the CPU the workers and
the servers (Dovecot, PostgreSQL, Ceph) spent and the workers' peak RSS.

  sudo python3 bench/fleet.py                     # 60 accounts x 300 messages, 2 rounds
  sudo python3 bench/fleet.py --accounts 12 --messages 100 --rounds 1   # a quick look (< 2 min)
  sudo python3 bench/fleet.py --perf              # then a perf profile of one postgres+s3 worker

It starts the test servers (scripts/test-env/up.sh: Dovecot with the fleet
users fleet01..fleetNN and their master user, PostgreSQL, Ceph RGW) unless
--env names ones already up, writes a deterministic corpus (bench/corpus.py,
one tag per account: no message is shared, so S3 stores every one) straight
into the fleet users' Maildirs, and measures, for each backend and worker
count, a cold backup of every account from an empty catalog and store:
  local        SQLite + Maildir: W `imapkeep backup` processes, each with its
               own store and config holding every W-th account (what W
               systemd timers on one host would run; a local store allows
               one run at a time, and workers need PostgreSQL)
  postgres     PostgreSQL catalog + Maildir: W `imapkeep worker --once`
  postgres+s3  PostgreSQL catalog + Ceph RGW: W `imapkeep worker --once`
Each run gets a fresh catalog schema, bucket and store; they are dropped once
the run is measured and checked (every account ok, every message saved).
The order of the configurations rotates from round to round; the figures are
medians, printed next to the load average that the machine had at the start.
Everything it started (servers, workers) is stopped by pid, also on failure
or ^C.
"""
import argparse
import datetime
import hashlib
import hmac
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import corpus
from measure import Trash, median, read_env

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BACKENDS = ("local", "postgres", "postgres+s3")
CLK_TCK = os.sysconf("SC_CLK_TCK")
INODE_WAIT_FILES = 5000  # spool files an S3 run unlinks before the next run waits them out


# --- CPU of the servers, from /proc ------------------------------------------
def proc_tree_ticks(root_pid):
    """CPU ticks (user+sys) of `root_pid` and every living descendant,
    including what each already reaped (cutime/cstime): a server's exited
    backends and logins count once they are waited for, which postmaster and
    the Dovecot master do at once."""
    children, ticks = {}, {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(name), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        ticks[pid] = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo += children.get(pid, [])
    return total


class Servers:
    """The root pids of the servers whose CPU is counted."""

    def __init__(self, env):
        d = env["IMAPKEEP_TEST_DIR"]
        self.roots = {"dovecot": [int(env["IMAPKEEP_TEST_DOVECOT_PID"])],
                      "postgres": [int(env["IMAPKEEP_TEST_PG_PID"])], "ceph": []}
        run = os.path.join(d, "ceph", "run")
        for name in sorted(os.listdir(run)) if os.path.isdir(run) else []:
            if name.endswith(".pid"):  # mon.a.pid, osd.0.pid, client.rgw.pid
                with open(os.path.join(run, name)) as f:
                    pid = int(f.read().strip())
                self.roots["ceph"].append(pid)
                # Each daemon apart too (in the samples CSV): where Ceph's CPU goes.
                self.roots["ceph_" + name[:-len(".pid")].split(".")[-1 if name.startswith("client.") else 0]] = [pid]

    def ticks(self):
        return {name: sum(proc_tree_ticks(p) for p in pids) for name, pids in self.roots.items()}


# --- S3 buckets: one SigV4 request, and radosgw-admin to purge ----------------
def s3_request(env, method, path):
    """An unsigned-payload-free SigV4 request with an empty body (bucket
    create): the bench needs no S3 library for that one call."""
    url = urllib.parse.urlsplit(env["IMAPKEEP_TEST_S3_ENDPOINT"])
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload = hashlib.sha256(b"").hexdigest()
    headers = {"host": url.netloc, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join([method, path, "", *("%s:%s" % (k, headers[k]) for k in sorted(headers)), "",
                           signed, payload])
    scope = "%s/us-east-1/s3/aws4_request" % day
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + env["IMAPKEEP_TEST_S3_SECRET_KEY"]).encode()
    for part in (day, "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        env["IMAPKEEP_TEST_S3_ACCESS_KEY"], scope, signed, signature)
    request = urllib.request.Request(env["IMAPKEEP_TEST_S3_ENDPOINT"] + path, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as reply:
        return reply.status


def create_bucket(env, bucket):
    s3_request(env, "PUT", "/" + bucket)


def purge_bucket(env, bucket):
    conf = os.path.join(env["IMAPKEEP_TEST_DIR"], "ceph", "ceph.conf")
    subprocess.run(["radosgw-admin", "-c", conf, "bucket", "rm", "--bucket=" + bucket, "--purge-objects",
                    "--bypass-gc"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def psql(env, sql):
    out = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", env["IMAPKEEP_TEST_PG_URL"],
                          "-c", sql], check=True, stdout=subprocess.PIPE, text=True,
                         env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"})
    return out.stdout.strip()


# --- the corpus ----------------------------------------------------------------
def fleet_user(n, accounts):
    """fleet01 ... as up.sh names them (as many digits as the count has)."""
    return "fleet%0*d" % (len(str(accounts)), n)


def write_corpus(env, users, messages, trash):
    """Each user's Maildir: INBOX, Archive and Lists (50/35/15%), every
    message a function of (seed, user, index). Returns the total bytes."""
    pool, total = corpus.Pool(), 0
    mail = os.path.join(env["IMAPKEEP_TEST_DIR"], "mail")
    layout = [("INBOX", messages - messages * 35 // 100 - messages * 15 // 100),
              ("Archive", messages * 35 // 100), ("Lists", messages * 15 // 100)]
    for user in users:
        root = os.path.join(mail, user)
        trash.discard(root)
        os.makedirs(root)
        owner = corpus.owner_of(root)
        index = 0
        for mailbox, count in layout:
            path = corpus.folder(root, mailbox)
            for _ in range(count):
                data, flags, date = corpus.message(pool, 1, user, index)
                corpus.write(os.path.join(path, "cur", corpus.file_name(user, index, data, date, flags)), data,
                             date, owner)
                index += 1
                total += len(data)
        corpus.chown_tree(root, owner)
    return total


def index_mailboxes(env, users, messages):
    """Dovecot indexes each mailbox now (untimed), and the counts are checked."""
    doveadm = shlex.split(env["IMAPKEEP_TEST_DOVEADM"])
    for user in users:
        out = subprocess.run([*doveadm, "mailbox", "status", "-u", user, "messages", "*"], check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        got = sum(int(line.split("=")[-1]) for line in out.split() if line.startswith("messages="))
        if got != messages:
            raise SystemExit("fleet.py: %s holds %d messages, expected %d" % (user, got, messages))


# --- one measured run --------------------------------------------------------------
class RunFailed(Exception):
    pass


class Bench:
    def __init__(self, args, env):
        self.args, self.env = args, env
        self.imapkeep = os.path.join(args.build, "imapkeep")
        self.users = [fleet_user(n, int(env["IMAPKEEP_TEST_FLEET_USERS"])) for n in range(1, args.accounts + 1)]
        self.servers = Servers(env)
        # Leftovers are moved aside, not deleted, until the end: see measure.Trash.
        self.trash = Trash(os.path.join(args.work, "trash"))
        self.children = []  # Popen of the workers running now (stopped by pid on failure)
        self.serial = 0
        self.idle = {}
        self.secret = os.path.join(args.work, "s3.secret")
        with open(self.secret, "w") as f:
            f.write(env["IMAPKEEP_TEST_S3_SECRET_KEY"] + "\n")
        os.chmod(self.secret, 0o600)
        self.child_env = {**os.environ, "IMAPKEEP_TEST_MASTER_PASSWORD": env["IMAPKEEP_TEST_MASTER_PASSWORD"]}

    def account_toml(self, name, user):
        e = self.env
        return ('[[account]]\nname = "%s"\nhost = "%s"\nport = %s\ntls = "none"\nallow_plaintext_auth = true\n'
                'mailboxes = ["*"]\nuser = "%s"\n%spassword_command = "printenv IMAPKEEP_TEST_MASTER_PASSWORD"\n\n'
                % (name, e["IMAPKEEP_TEST_HOST"], e["IMAPKEEP_TEST_IMAP_PORT"], user,
                   'master_user = "%s"\n' % e["IMAPKEEP_TEST_MASTER_USER"] if name != "dovecot" else ""))

    def config(self, path, store, backend, schema=None, bucket=None, users=()):
        e = self.env
        text = '[store]\npath = "%s"\n' % store
        if backend != "local":
            text += 'catalog = "%s"\ncatalog_schema = "%s"\n' % (e["IMAPKEEP_TEST_PG_URL"], schema)
        if backend == "postgres+s3":
            text += ('backend = "postgres+s3"\n\n[store.s3]\nendpoint = "%s"\nbucket = "%s"\naccess_key = "%s"\n'
                     'secret_key_file = "%s"\n' % (e["IMAPKEEP_TEST_S3_ENDPOINT"], bucket,
                                                   e["IMAPKEEP_TEST_S3_ACCESS_KEY"], self.secret))
        text += "\n"
        if backend == "local":
            text += "".join(self.account_toml(u, u) for u in users)
        else:
            text += self.account_toml("dovecot", "unused")  # the fleet's template
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return path

    def prepare(self, backend, workers):
        """A fresh place for one run: (commands, cleanup, check)."""
        self.serial += 1
        tag = "fleetbench_%d_%d" % (os.getpid(), self.serial)
        place = os.path.join(self.args.store_dir or self.args.work, "fleetbench-run-%d-%d" % (os.getpid(), self.serial))
        os.makedirs(place)
        if backend == "local":
            commands, stores = [], []
            for w in range(workers):
                store = os.path.join(place, "store%d" % w)
                mine = self.users[w::workers]
                config = self.config(os.path.join(place, "config%d.toml" % w), store, "local", users=mine)
                commands.append([self.imapkeep, "--config", config, "backup", "-q"])
                stores.append(store)

            def check():
                got = sum(files_in(os.path.join(s, "mail")) for s in stores)
                want = len(self.users) * self.args.messages
                if got != want:
                    raise RunFailed("%d message files in the stores, expected %d" % (got, want))
            return commands, lambda: self.trash.discard(place), check

        schema, bucket = tag, tag.replace("_", "-")
        if backend == "postgres+s3":
            create_bucket(self.env, bucket)
        config = self.config(os.path.join(place, "config.toml"), os.path.join(place, "store"), backend, schema,
                             bucket)
        csv = os.path.join(place, "accounts.csv")
        with open(csv, "w") as f:
            f.write("name,user,master_user,template\n")
            f.writelines("%s,%s,%s,dovecot\n" % (u, u, self.env["IMAPKEEP_TEST_MASTER_USER"]) for u in self.users)
        subprocess.run([self.imapkeep, "--config", config, "accounts", "import", csv], check=True,
                       stdout=subprocess.DEVNULL, env=self.child_env)
        commands = [[self.imapkeep, "--config", config, "worker", "--once", "--lease", "600", "--id",
                     "w%d" % w, "-q"] for w in range(workers)]

        def check():
            q = '"%s"' % schema
            ok = int(psql(self.env, "SELECT count(*) FROM %s.fleet_accounts WHERE last_status = 'ok'" % q))
            saved = int(psql(self.env, "SELECT count(*) FROM %s.message WHERE expunged_at IS NULL" % q))
            if ok != len(self.users) or saved != len(self.users) * self.args.messages:
                raise RunFailed("%d accounts ok and %d messages in the catalog, expected %d and %d"
                                % (ok, saved, len(self.users), len(self.users) * self.args.messages))

        def cleanup():
            psql(self.env, 'DROP SCHEMA IF EXISTS "%s" CASCADE' % schema)
            if backend == "postgres+s3":
                purge_bucket(self.env, bucket)
                # The run unlinked a spool file per message: the next run
                # waits until those inodes are old enough (measure.Trash),
                # unless they are few (a quick run would spend most of its
                # time waiting for a cost of well under a second).
                if len(self.users) * self.args.messages >= INODE_WAIT_FILES:
                    self.trash.freed_at = time.monotonic()
            self.trash.discard(place)
        return commands, cleanup, check

    def start(self, command, rusage_file, prefix=()):
        child = subprocess.Popen([*prefix, "/usr/bin/time", "-f", "%U %S %M", "-o", rusage_file, *command],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self.child_env,
                                 start_new_session=True)
        self.children.append(child)
        return child

    def stop_children(self):
        """Ends the workers still running (each its own process group, led by
        the pid we started) on failure or ^C."""
        for child in self.children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        self.children = []

    def measure(self, backend, workers, rnd, prefix=()):
        commands, cleanup, check = self.prepare(backend, workers)
        try:
            os.sync()
            self.trash.wait_for_fresh_inodes()
            load = open("/proc/loadavg").read().split()[0]
            before = self.servers.ticks()
            with tempfile.TemporaryDirectory() as tmp:
                files = [os.path.join(tmp, "w%d" % w) for w in range(workers)]
                start = time.perf_counter()
                running = [self.start(c, f, prefix) for c, f in zip(commands, files)]
                outputs = [child.communicate()[0].decode(errors="replace") for child in running]
                seconds = time.perf_counter() - start
                after = self.servers.ticks()
                self.children = []
                for child, out in zip(running, outputs):
                    if child.returncode != 0:
                        raise RunFailed("a worker exited %d:\n%s" % (child.returncode, out[-2000:]))
                usage = [[float(x) for x in open(f).read().split()[-3:]] for f in files]
            check()
        finally:
            self.stop_children()
            cleanup()
        megabytes = self.facts["bytes"] / 1e6 * len(self.users) / self.facts["accounts"]
        sample = {"backend": backend, "workers": workers, "round": rnd, "seconds": seconds,
                  "accounts_per_hour": len(self.users) * 3600 / seconds, "mb_per_s": megabytes / seconds,
                  "worker_cpu_s": sum(u + s for u, s, _ in usage),
                  "peak_rss_mb": max(m for _, _, m in usage) / 1024, "loadavg": float(load)}
        # What the servers spent for this run: less what they spend idle
        # (Ceph's daemons tick along by themselves).
        for name in before:
            sample[name + "_cpu_s"] = (after[name] - before[name]) / CLK_TCK - self.idle[name] * seconds
        return sample

    def measure_idle(self, seconds=5.0):
        """CPU seconds per second each server spends with no client."""
        before = self.servers.ticks()
        time.sleep(seconds)
        after = self.servers.ticks()
        self.idle = {name: (after[name] - before[name]) / CLK_TCK / seconds for name in before}
        return self.idle


def files_in(tree):
    return sum(len(files) for top, _, files in os.walk(tree) if os.path.basename(top) in ("cur", "new"))


# --- the table -------------------------------------------------------------------
COLUMNS = [("backend", "%-12s"), ("workers", "%7d"), ("runs", "%4d"), ("seconds", "%8.2f"),
           ("accounts_per_hour", "%9.0f"), ("mb_per_s", "%6.2f"), ("worker_cpu_s", "%8.2f"),
           ("dovecot_cpu_s", "%8.2f"), ("postgres_cpu_s", "%8.2f"), ("ceph_cpu_s", "%8.2f"),
           ("peak_rss_mb", "%7.1f"), ("loadavg", "%s")]
HEADINGS = ["backend", "workers", "runs", "wall s", "acct/h", "MB/s", "worker", "dovecot", "postgres", "ceph",
            "RSS MB", "load avg (each run)"]


def summarize(samples, configurations):
    rows = []
    for backend, workers in configurations:
        mine = [s for s in samples if (s["backend"], s["workers"]) == (backend, workers)]
        if not mine:
            continue
        row = {"backend": backend, "workers": workers, "runs": len(mine),
               "loadavg": " ".join("%.2f" % s["loadavg"] for s in mine),
               "peak_rss_mb": max(s["peak_rss_mb"] for s in mine)}
        seconds = median([s["seconds"] for s in mine])
        row["seconds"] = seconds
        for key, _ in COLUMNS:
            if key not in row:
                row[key] = median([s[key] for s in mine])
        rows.append(row)
    return rows


def print_table(rows, facts):
    print("\n%d accounts x %d messages, %.1f MB; CPU in seconds (user+sys; servers: less their idle CPU), medians" %
          (facts["accounts"], facts["messages"], facts["bytes"] / 1e6))
    widths = [len(f % (0 if "d" in f or "f" in f else "")) for _, f in COLUMNS]
    print("  ".join(h.rjust(max(w, len(h))) if i else h.ljust(max(w, len(h)))
                    for i, (h, w) in enumerate(zip(HEADINGS, widths))))
    for row in rows:
        print("  ".join((f % row[k]).rjust(max(w, len(h))) if i else (f % row[k]).ljust(max(w, len(h)))
                        for i, ((k, f), h, w) in enumerate(zip(COLUMNS, HEADINGS, widths))))


def write_csv(path, rows, keys):
    import csv
    with open(path, "w", newline="") as f:
        out = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        out.writeheader()
        out.writerows({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()} for row in rows)


def write_chart(path, rows, facts, workers, backends):
    """Accounts per hour by worker count, one bar per backend (gnuplot, when
    installed; the CSV says the same)."""
    if not shutil.which("gnuplot"):
        return False
    data = path + ".dat"
    value = {(r["backend"], r["workers"]): r["accounts_per_hour"] for r in rows}
    with open(data, "w") as f:
        for w in workers:
            f.write('"%d worker%s" %s\n' % (w, "s" if w > 1 else "",
                                            " ".join("%.1f" % value[(b, w)] if (b, w) in value else "?"
                                                     for b in backends)))
    plots = ", ".join("'%s' using %d:xtic(1) title '%s'" % (data, i + 2, b) for i, b in enumerate(backends))
    script = """
set terminal pngcairo size 900,500 noenhanced
set output '%s'
set title 'imapkeep fleet: %d accounts x %d messages (%.0f MB), cold backup; accounts per hour, median'
set datafile missing '?'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel 'accounts per hour'
set yrange [0:*]
set key top left
set grid ytics
plot %s
""" % (path, facts["accounts"], facts["messages"], facts["bytes"] / 1e6, plots)
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
    finally:
        os.unlink(data)
    return True


# --- perf -------------------------------------------------------------------------
# What the profile is asked about: (label, regex of symbols). A part's share
# is the largest "children" share among its symbols (the samples under it;
# parts overlap: SigV4 and the PUT are inside libcurl's caller, etc.).
PARTS = [
    ("SigV4 signing (canonical request, its SHA-256, HMAC)", r"imapkeep::s3::Signer::sign$"),
    ("SHA-256, all (message bytes + canonical requests)", r"imapkeep::util::Sha256::(update|Sha256)$"),
    ("S3 PUT of the objects (signing, libcurl, sockets)", r"imapkeep::s3::S3Client::put_object$"),
    ("S3 HEAD before each PUT", r"imapkeep::s3::S3Client::head_object$"),
    ("libcurl, every request", r"^curl_easy_perform$"),
    ("openat: spool files made and reopened", r"^__x64_sys_openat$"),
    ("  of which ext4 inode allocation", r"^__ext4_new_inode$"),
    ("unlink: spool files removed", r"^__x64_sys_unlink$"),
    ("IMAP: reading and parsing the server's replies", r"imapkeep::imap::Client::read_frame$"),
    ("catalog: libpq and PostgresCatalog", r"^PQ[a-zA-Z]+$|PostgresCatalog::"),
    ("lease heartbeat", r"imapkeep::fleet::Heartbeat::"),
]


def profile(bench, out_prefix):
    """One postgres+s3 worker under `perf record` (DWARF call graphs), and the
    share of the worker's samples under each part of the work. Returns
    (sample of the run, [(label, share %, seconds)])."""
    import re
    data = out_prefix + ".perf.data"
    prefix = ["perf", "record", "-q", "-F", "997", "--call-graph", "dwarf,16384", "-o", data, "--"]
    # DWARF stacks are 16 KB a sample: 20 accounts give some thousands of samples, in tens of MB.
    everyone = bench.users
    bench.users = everyone[:bench.args.perf_accounts]
    try:
        sample = bench.measure("postgres+s3", 1, 0, prefix=prefix)
    finally:
        bench.users = everyone
    report = subprocess.run(["perf", "report", "-i", data, "--children", "--stdio", "-g", "none",
                             "--percent-limit", "0", "--sort", "symbol", "--comm", "imapkeep"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    with open(out_prefix + ".perf.txt", "w") as f:
        f.write(report)
    shares = []  # (children %, symbol)
    for line in report.splitlines():
        m = re.match(r"\s*([0-9.]+)%\s+([0-9.]+)%\s+\[[.k]\]\s+(.*?)\s*(?:-\s+-\s*)?$", line)
        if m:
            shares.append((float(m.group(1)), m.group(3)))
    parts = []
    for label, pattern in PARTS:
        share = max([c for c, sym in shares if re.search(pattern, sym)], default=0.0)
        parts.append((label, share, share / 100 * sample["worker_cpu_s"]))
    return sample, parts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", help="env file of servers already started by scripts/test-env/up.sh "
                                      "(default: start them, and stop them at the end)")
    parser.add_argument("--build", default=os.path.join(ROOT, "build-bench"),
                        help="build dir holding imapkeep (default build-bench/, built in Release if missing)")
    parser.add_argument("--accounts", type=int, default=60, help="fleet accounts to back up (at most 60)")
    parser.add_argument("--messages", type=int, default=300, help="messages per account")
    parser.add_argument("--workers", default="1,2,4", help="worker counts (comma-separated)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="of " + ", ".join(BACKENDS))
    parser.add_argument("--rounds", type=int, default=2, help="runs of each configuration; the figure is the median")
    parser.add_argument("--perf", action="store_true", help="then profile one postgres+s3 worker with perf")
    parser.add_argument("--perf-accounts", type=int, default=20, help="accounts of the profiled run (default 20)")
    parser.add_argument("--store-dir", help="where the stores (and the S3 store's spool) go (default: a temp dir)")
    parser.add_argument("--out", default=os.path.join(HERE, "results"), help="where the CSV files go")
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    backends = args.backends.split(",")
    if any(b not in BACKENDS for b in backends) or min(workers) < 1 or args.rounds < 1:
        parser.error("bad --backends, --workers or --rounds")
    args.build = os.path.abspath(args.build)
    if not os.path.exists(os.path.join(args.build, "imapkeep")):
        print("fleet.py: building imapkeep (Release) in %s" % args.build, flush=True)
        subprocess.run(["cmake", "-S", ROOT, "-B", args.build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                        "-DIMAPKEEP_TESTS=OFF"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", args.build, "-j2", "--target", "imapkeep"], check=True,
                       stdout=subprocess.DEVNULL)
    os.makedirs(args.out, exist_ok=True)
    args.work = tempfile.mkdtemp(prefix="imapkeep-fleetbench.")
    envfile, started = args.env, False
    # ^C or a TERM: unwind through the finally below, which stops what we started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    bench = None
    try:
        if envfile is None:
            envfile, started = os.path.join(args.work, "servers.env"), True
            print("fleet.py: starting Dovecot, PostgreSQL and Ceph RGW on loopback", flush=True)
            with open(os.path.join(args.work, "up.log"), "w") as log:
                if subprocess.run(["bash", os.path.join(ROOT, "scripts/test-env/up.sh"), envfile], stdout=log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode:
                    sys.stderr.write(open(log.name).read())
                    return 1
        env = read_env(envfile)
        if args.accounts > int(env["IMAPKEEP_TEST_FLEET_USERS"]):
            parser.error("--accounts: the test Dovecot has %s fleet users" % env["IMAPKEEP_TEST_FLEET_USERS"])
        bench = Bench(args, env)
        print("fleet.py: writing %d accounts x %d messages" % (args.accounts, args.messages), flush=True)
        total = write_corpus(env, bench.users, args.messages, bench.trash)
        index_mailboxes(env, bench.users, args.messages)
        bench.facts = {"accounts": args.accounts, "messages": args.messages, "bytes": total}
        idle = bench.measure_idle()
        print("fleet.py: idle CPU of the servers (s/s, subtracted below): %s" %
              ", ".join("%s %.3f" % kv for kv in idle.items()), flush=True)
        print("fleet.py: %.1f MB; %d round(s)" % (total / 1e6, args.rounds), flush=True)
        configurations = [(b, w) for b in backends for w in workers]
        samples, failed = [], 0
        for rnd in range(args.rounds):
            # Every other round backwards: no configuration always runs
            # first, or always right after the same one.
            for backend, w in configurations[::-1] if rnd % 2 else configurations:
                try:
                    s = bench.measure(backend, w, rnd + 1)
                except (RunFailed, subprocess.CalledProcessError) as e:
                    failed += 1
                    print("FAILED: %s, %d worker(s), round %d: %s" % (backend, w, rnd + 1, e), flush=True)
                    continue
                samples.append(s)
                print("  %-12s %d worker(s) round %d: %7.2f s  %6.0f acct/h  %6.2f MB/s  cpu %.2f s  load %.2f"
                      % (backend, w, rnd + 1, s["seconds"], s["accounts_per_hour"], s["mb_per_s"],
                         s["worker_cpu_s"], s["loadavg"]), flush=True)
        rows = summarize(samples, configurations)
        print_table(rows, bench.facts)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        prefix = os.path.join(args.out, "fleet-" + stamp)
        write_csv(prefix + ".csv", rows, [k for k, _ in COLUMNS])
        write_csv(prefix + "-samples.csv", samples, list(samples[0]) if samples else [])
        print("fleet.py: wrote %s.csv and %s-samples.csv" % (prefix, prefix))
        if rows and write_chart(prefix + ".png", rows, bench.facts, workers, backends):
            print("fleet.py: wrote %s.png" % prefix)
        if args.perf:
            sample, parts = profile(bench, prefix)
            print("\nWhere one postgres+s3 worker's CPU goes (%d accounts, %.2f s CPU in %.2f s; perf, "
                  "share of its samples under each part; parts overlap):" %
                  (args.perf_accounts, sample["worker_cpu_s"], sample["seconds"]))
            for label, share, seconds in parts:
                print("  %-58s %5.1f%%  %6.2f s" % (label, share, seconds))
            write_csv(prefix + "-profile.csv", [{"part": l, "share_percent": "%.2f" % p, "cpu_s": "%.3f" % c}
                                                for l, p, c in parts], ["part", "share_percent", "cpu_s"])
            print("fleet.py: every symbol in %s.perf.txt, perf data in %s.perf.data" % (prefix, prefix))
        return 1 if failed else 0
    finally:
        if bench:
            bench.stop_children()
        if started:
            subprocess.run(["bash", os.path.join(ROOT, "scripts/test-env/down.sh"), envfile],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
