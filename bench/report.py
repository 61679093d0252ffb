"""The bench's results: medians per scenario, ratios, the targets of issue 10
with met / missed, printed as a table and written as CSV files and a PNG."""
import csv
import datetime
import os
import shutil
import subprocess

from measure import median

RSS_LIMIT_MB = 64


class Row:
    """One line of the table: a scenario case with its imapkeep, peer and floor."""

    def __init__(self, scenario, case, samples, failed):
        self.scenario, self.case = scenario, case
        self.failed = sorted({tool for s, c, tool in failed if (s, c) == (scenario, case)})
        mine = [x for x in samples if (x["scenario"], x["case"]) == (scenario, case)]
        self.ik, self.ik_s, self.ik_rss = self.side(mine, "imapkeep")
        self.peer, self.peer_s, self.peer_rss = self.side(mine, "peer")
        floors = {}
        for x in mine:
            if x["role"] == "floor":
                floors.setdefault(x["tool"], []).append(x["seconds"])
        self.floors = {tool: median(v) for tool, v in floors.items()}
        self.floor_s = max(self.floors.values()) if self.floors else None
        self.floor = ("max(%s)" % ", ".join(self.floors) if len(self.floors) > 1
                      else next(iter(self.floors), ""))
        self.ratio_peer = ratio(self.ik_s, self.peer_s)
        self.ratio_floor = ratio(self.ik_s, self.floor_s)
        self.target, self.verdict, self.note = "", "", ""

    @staticmethod
    def side(samples, role):
        mine = [x for x in samples if x["role"] == role]
        if not mine:
            return "", None, None
        return mine[0]["tool"], median([x["seconds"] for x in mine]), max(x["rss_mb"] for x in mine)


def ratio(a, b):
    return a / b if a is not None and b else None


def judge(row, rows, facts):
    """Sets row.target and row.verdict from the issue's target table."""
    checks = []  # (what, holds or None when it cannot be computed)
    s, case = row.scenario, row.case
    if s == "1":
        checks += [("<= 1.3x floor", le(row.ratio_floor, 1.3)), ("<= 0.15x mbsync", le(row.ratio_peer, 0.15))]
        if row.ik_s is not None:
            row.note = "%.3f s per 1k messages" % (row.ik_s / facts["messages"] * 1000)
    elif s == "2":
        checks.append(("<= 1.5x protocol floor", le(row.ratio_floor, 1.5)))
    elif s == "3":
        checks.append(("<= 0.2x mbsync", le(row.ratio_peer, 0.2)))
        bound = change_bound(rows, facts)
        checks.append(("<= 2x no-change + new bytes at raw rate" +
                       (" (%.3f s)" % bound if bound else ""), le(row.ik_s, bound)))
    elif s == "4":
        checks.append(("<= 0.5x mbsync", le(row.ratio_peer, 0.5)))
    if s in ("3", "4") and ratio(row.floor_s, row.peer_s) is not None:
        # Whether the target is within reach of any client of this server.
        row.note = "the change floor alone is %.2fx mbsync" % ratio(row.floor_s, row.peer_s)
    elif s == "5":
        checks.append(("<= 0.33x mbsync push", le(row.ratio_peer, 0.33)))
    elif s == "6":
        checks += [("<= 1.15x raw", le(row.ratio_floor, 1.15)), ("RSS below python's", lt(row.ik_rss, row.peer_rss))]
    elif s == "7" and "no-change" in case:
        checks.append(("<= 1.5x protocol floor", le(row.ratio_floor, 1.5)))
    elif s == "9":
        checks.append(("<= 1.3x TCP", le(row.ratio_peer, 1.3)))
    if s != "6":  # the imaplib face returns every message: its RSS is the corpus
        checks.append(("RSS <= %d MB" % RSS_LIMIT_MB, le(row.ik_rss, RSS_LIMIT_MB)))
    row.target = ", ".join(what for what, _ in checks)
    missed = [what for what, ok in checks if ok is False]
    unknown = [what for what, ok in checks if ok is None]
    if row.failed:
        row.verdict = "FAILED: " + ", ".join(row.failed)
    elif missed:
        row.verdict = "missed: " + ", ".join(missed) + ("; n/a: " + ", ".join(unknown) if unknown else "")
    elif unknown:
        row.verdict = "n/a: " + ", ".join(unknown)
    else:
        row.verdict = "met"


def le(value, limit):
    return None if value is None or limit is None else value <= limit


def lt(value, limit):
    return None if value is None or limit is None else value < limit


def change_bound(rows, facts):
    """2x the no-change time plus the 1% change's new bytes at the raw rate."""
    nochange = next((r.ik_s for r in rows if r.scenario == "2"), None)
    raw = next((r.floors.get("raw fetch") for r in rows if r.scenario == "1"), None)
    if nochange is None or not raw or "change" not in facts:
        return None
    return 2 * nochange + facts["change"]["new_bytes"] / (facts["bytes"] / raw)


def corpus_text(facts):
    if "messages" not in facts:
        return "main corpus not used"
    return "main corpus: %d messages, %.0f MB in 3 mailboxes" % (facts["messages"], facts["bytes"] / 1e6)


def fmt(value, pattern="%.3f"):
    return "-" if value is None else pattern % value


def print_table(rows, facts, args):
    print("\n%s; median of %d round(s); RSS = peak over rounds" % (corpus_text(facts), args.rounds))
    head = "%-2s %-31s %9s %7s  %-15s %9s %7s %7s  %-31s %9s %8s  %s"
    print(head % ("#", "case", "imapkeep", "RSS MB", "peer", "peer s", "RSS MB", "ik/peer",
                  "floor", "floor s", "ik/floor", "verdict"))
    for r in rows:
        print(head % (r.scenario, r.case[:31], fmt(r.ik_s), fmt(r.ik_rss, "%.1f"), r.peer[:15], fmt(r.peer_s),
                      fmt(r.peer_rss, "%.1f"), fmt(r.ratio_peer, "%.2f"), r.floor[:31], fmt(r.floor_s),
                      fmt(r.ratio_floor, "%.2f"), r.verdict.split(":")[0]))
        print("     target: %s -> %s%s" % (r.target, r.verdict, "; " + r.note if r.note else ""))


COLUMNS = ["scenario", "case", "imapkeep", "imapkeep_s", "imapkeep_rss_mb", "peer", "peer_s", "peer_rss_mb",
           "ratio_peer", "floor", "floor_s", "ratio_floor", "floors", "target", "verdict", "note",
           "messages", "bytes", "rounds"]


def write_csv(path, rows, facts, args):
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(COLUMNS)
        for r in rows:
            out.writerow([r.scenario, r.case, r.ik, num(r.ik_s), num(r.ik_rss), r.peer, num(r.peer_s),
                          num(r.peer_rss), num(r.ratio_peer), r.floor, num(r.floor_s), num(r.ratio_floor),
                          ";".join("%s=%s" % (k, num(v)) for k, v in r.floors.items()), r.target, r.verdict,
                          r.note, facts.get("messages", ""), facts.get("bytes", ""), args.rounds])


def write_samples(path, samples):
    with open(path, "w", newline="") as f:
        out = csv.DictWriter(f, ["scenario", "case", "tool", "role", "round", "seconds", "rss_mb"])
        out.writeheader()
        out.writerows(samples)


def num(value):
    return "" if value is None else "%.4f" % value


def write_chart(path, rows, facts):
    """Seconds of imapkeep, peer and floor per case, log scale: gnuplot.
    False when gnuplot is not installed (bench/run.sh installs it; bench.py
    run by hand may lack it): the figures are in the CSV all the same."""
    if shutil.which("gnuplot") is None:
        return False
    data = path + ".dat"
    with open(data, "w") as f:
        for r in rows:
            label = ("%s %s" % (r.scenario, r.case)).replace('"', "'")
            f.write('"%s" %s %s %s\n' % (label, gp(r.ik_s), gp(r.peer_s), gp(r.floor_s)))
    script = """
set terminal pngcairo size 1400,700 noenhanced
set output '%s'
set title 'imapkeep bench, %s (median seconds, log scale; lower is better)'
set datafile missing '?'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel 'seconds'
set xtics rotate by -35 scale 0
set key top left
set grid ytics
set bmargin 9
set rmargin 14
plot %s
""" % (path, corpus_text(facts), plot_clause(rows, data))
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    os.unlink(data)
    return True


def plot_clause(rows, data):
    """One bar series per column that has a value (gnuplot warns on an empty one)."""
    series = [(2, "ik_s", "imapkeep"), (3, "peer_s", "peer (mbsync; 6: python3 imaplib; 9: imapkeep over TCP)"),
              (4, "floor_s", "floor")]
    parts = ["'%s' using %d:xtic(1) title '%s'" % (data, column, title)
             for column, field, title in series if any(getattr(r, field) is not None for r in rows)]
    return ", ".join(parts) or "'%s' using 2:xtic(1) notitle" % data


def gp(value):
    return "?" if value is None else "%.6f" % value


def write(cases, samples, failures, facts, args):
    """Prints the table, writes <stamp>.csv, <stamp>-samples.csv and
    <stamp>.png into args.out for `cases` [(scenario, case)] in their order;
    True when no run failed."""
    rows = [Row(s, c, samples, failures) for s, c in cases]
    for r in rows:
        judge(r, rows, facts)
    print_table(rows, facts, args)
    os.makedirs(args.out, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    base = os.path.join(args.out, stamp)
    write_csv(base + ".csv", rows, facts, args)
    write_samples(base + "-samples.csv", samples)
    chart = base + ".png" if write_chart(base + ".png", rows, facts) else "no chart (gnuplot is not installed)"
    print("\nwritten: %s.csv, %s-samples.csv, %s" % (base, base, chart))
    if failures:
        print("%d run(s) FAILED; see the FAILED lines above" % len(failures))
    return not failures
