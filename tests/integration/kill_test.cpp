// `imapkeep backup` killed with SIGKILL at random moments, then run again, must
// end exactly where an uninterrupted run ends (README: "kill it at any moment;
// the next run loses and duplicates nothing"): the same catalog, the same
// Maildir files, no tmp/ leftovers, `verify` clean, and a further run changes
// nothing. Both the first backup (fresh store) and an incremental one (new
// mail, flag changes, expunges, renames, a deletion) are killed.
//
// Trials alternate connections = 4 (all opened: connection_cost_ms = 0) and
// 1; each kill moment is drawn from the duration of an uninterrupted run with
// the same connections. The moments come from a seeded PRNG (as fractions of
// that duration); the seed is printed and IMAPKEEP_TEST_SEED replays it.
// IMAPKEEP_TEST_KILL_TRIALS (default 20) sets the number of incremental
// trials (half as many for the first backup), and
// IMAPKEEP_TEST_KILL_WINDOW_MS="A:B" draws the moments from [A, B) ms instead,
// e.g. "5:90" for the rename step, "149.5:149.5" to replay one printed moment.
// Owns the test account user4 (scripts/test-env/up.sh) on each server: it
// empties it first. Runs on Dovecot, then Cyrus with fewer trials
// (IMAPKEEP_TEST_CYRUS_KILL_TRIALS, default 6).
#include <algorithm>
#include <catch2/catch.hpp>
#include <imapkeep/util/imap_date.hpp>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <sstream>

#include "integration/backup_support.hpp"
#include "integration/imapkeep_process.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
namespace fs = std::filesystem;

namespace {

constexpr int kUser = 4;
constexpr const char* kAccount = "kt";

// ---- The server's mail ------------------------------------------------------

// Message n's size: mostly a few KB, some 40 KB, every 25th 300 KB.
std::size_t body_size(int n) {
    if (n % 25 == 0) return 300 * 1024;
    if (n % 10 == 3) return 40 * 1024;
    return 300 + static_cast<std::size_t>(n * 7919 % 6000);
}

// Message n's bytes. Every 17th is byte-identical to the one before it and
// every 29th to message 1 (in another mailbox); every 6th has no Message-ID.
std::string message_bytes(int n) {
    int content = n % 29 == 0 ? 1 : n % 17 == 0 ? n - 1 : n;
    std::string m = "From: Sender " + std::to_string(content % 13) + " <s@example.org>\r\n";
    m += "To: user4@example.org\r\n";
    m += "Subject: kill test message " + std::to_string(content) + "\r\n";
    if (content % 6 != 0) m += "Message-ID: <kill." + std::to_string(content) + "@example.org>\r\n";
    m += "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n";
    const std::size_t want = body_size(content);
    for (int line = 0; m.size() < want; ++line)
        m += "message " + std::to_string(content) + " line " + std::to_string(line) +
             " the quick brown fox jumps over the lazy dog\r\n";
    return m;
}

std::vector<std::string> message_flags(int n) {
    std::vector<std::string> f;
    if (n % 3 != 0) f.push_back("\\Seen");
    if (n % 8 == 0) f.push_back("\\Flagged");
    if (n % 13 == 0) f.push_back("\\Answered");
    if (n % 19 == 0) f.push_back("$Label1");
    if (n % 31 == 0) f.push_back("\\Draft");
    return f;
}

struct Server {
    std::unique_ptr<imap::Client> c;
    std::string d;  // hierarchy delimiter
    int next_message = 1;

    explicit Server(ServerKind kind)
        : c(imap::connect_and_login(server_options(kind, kUser))), d(hierarchy_delimiter(*c)) {}

    std::string name(const std::string& slash_path) const {
        std::string out = slash_path;
        std::replace(out.begin(), out.end(), '/', d.empty() ? '/' : d[0]);
        return out;
    }

    // Every mailbox empty or gone; the auto-created special-use ones stay.
    // Cyrus creates none: Sent is made once and then kept like them.
    void reset() {
        auto entries = c->list("", "*");
        std::sort(entries.begin(), entries.end(),
                  [](const auto& a, const auto& b) { return a.name.size() > b.name.size(); });
        const std::set<std::string> keep{"INBOX", "Drafts", "Sent", "Junk", "Trash"};
        for (const auto& e : entries) {
            if (!e.selectable()) continue;
            if (keep.count(e.name)) {
                expunge(e.name, "1:4294967295");  // every UID
            } else {
                c->delete_mailbox(e.name);
            }
        }
        if (c->list("", "Sent").empty()) c->create("Sent");
    }

    void append(const std::string& box, int count) {
        constexpr int kBatch = 20;
        for (int done = 0; done < count; done += kBatch) {
            std::vector<imap::Client::Tag> tags;
            for (int i = done; i < std::min(count, done + kBatch); ++i, ++next_message) {
                const int n = next_message;
                std::string date =
                    util::format_imap_datetime(1700000000 + n * 3600, 3600 * (n % 3));
                tags.push_back(c->submit_append(box, message_flags(n), date, message_bytes(n)));
            }
            for (const auto& t : tags) c->finish_append(t);
        }
    }

    void store_flags(const std::string& box, const std::string& uids, const imap::StoreFlags& change) {
        c->select(box, false);
        REQUIRE_NOTHROW(c->uid_store(UidSet::parse(uids), change));
        c->unselect();  // CLOSE would expunge what is \Deleted
    }

    void expunge(const std::string& box, const std::string& uids) {
        auto selected = c->select(box, false);
        if (selected.exists > 0) {
            REQUIRE_NOTHROW(c->uid_store(UidSet::parse(uids), imap::StoreFlags::add({"\\Deleted"}).silent()));
            REQUIRE(c->run("UID EXPUNGE", {wire::Arg::raw(uids)}).ok());
        }
        c->unselect();
    }

    // A comma list of the UIDs 1..last that are multiples of `step` (+ offset).
    static std::string every(int step, int offset, int last) {
        std::string out;
        for (int u = offset; u <= last; u += step)
            out += (out.empty() ? "" : ",") + std::to_string(u);
        return out;
    }

    // ~400 messages in 9 mailboxes (plus empty ones), ~8 MB.
    void seed() {
        for (const char* box :
             {"Archive", "Archive/2023", "Lists", "Lists/dev", "Lists/announce", "Work", "Old"})
            c->create(name(box));
        append("INBOX", 120);
        append(name("Archive"), 60);
        append(name("Archive/2023"), 50);
        append(name("Lists/dev"), 60);
        append(name("Lists/announce"), 30);
        append(name("Work"), 40);
        append(name("Old"), 20);
        append("Sent", 20);
    }

    // What the incremental backup must follow: new mail in several mailboxes
    // (one new), flags set and cleared, expunges, two renames (one with
    // children), one deletion.
    void change() {
        next_message = 1001;
        append("INBOX", 50);
        append(name("Lists/dev"), 30);
        append(name("Work"), 15);
        append(name("Archive/2023"), 10);
        c->create(name("Projects/New"));
        append(name("Projects/New"), 10);

        store_flags("INBOX", every(4, 1, 170), imap::StoreFlags::add({"\\Flagged", "$Todo"}));
        store_flags("INBOX", every(5, 2, 170), imap::StoreFlags::remove({"\\Seen"}));
        store_flags(name("Archive"), every(7, 3, 60), imap::StoreFlags::add({"\\Answered"}));
        store_flags(name("Lists/dev"), "1:10", imap::StoreFlags::add({"\\Seen", "\\Deleted"}));

        expunge("INBOX", every(9, 5, 170));
        expunge(name("Lists/dev"), "20:25");
        expunge(name("Archive"), "1:3");
        expunge("Sent", "1:20");

        c->rename_mailbox(name("Work"), name("Projects/Work"));
        c->rename_mailbox(name("Lists"), name("Groups"));
        store_flags(name("Groups/dev"), "30:40", imap::StoreFlags::add({"$Renamed"}));
        c->delete_mailbox(name("Old"));
    }
};

// ---- What a store holds ---------------------------------------------------

// Everything that must match between an interrupted-and-resumed store and the
// reference: mailboxes with their high-water marks, every catalog row (live
// and expunged, with where its file is), flag history, the files on disk.
// Unique parts of file names and timestamps are left out.
struct StoreView {
    std::multiset<std::string> mailboxes;
    std::multiset<std::string> messages;
    std::multiset<std::string> files;
    std::multiset<std::string> folders;  // Maildir folders (with a cur/), live and attic
    std::vector<std::string> tmp_files;
};

std::string flag_text(const std::vector<std::string>& flags) {
    std::string out = "(";
    for (const auto& f : flags) out += (out.size() > 1 ? " " : "") + f;
    return out + ")";
}

// "attic/kt/.Archive/cur/...:2,S" -> "attic/kt/.Archive/cur :2,S"
std::string file_shape(const std::string& path) {
    auto slash = path.rfind('/');
    auto colon = path.find(":2,", slash == std::string::npos ? 0 : slash);
    return path.substr(0, slash) + " " + (colon == std::string::npos ? "" : path.substr(colon));
}

StoreView view_of(const fs::path& root) {
    StoreView v;
    auto catalog = store::open_sqlite_catalog((root / "catalog.sqlite").string());
    auto account = catalog->find_account(kAccount);
    REQUIRE(account);
    for (const auto& mb : catalog->mailboxes(*account, true)) {
        std::ostringstream line;
        line << mb.name << " folder=" << mb.folder << " uidvalidity=" << mb.uidvalidity
             << " uidnext=" << mb.uidnext << " modseq=" << mb.highestmodseq
             << (mb.deleted_at ? " deleted" : "");
        v.mailboxes.insert(line.str());
        for (const auto& m : catalog->all_messages(mb.id)) {
            std::ostringstream row;
            row << mb.name << " uid=" << m.uid << " " << m.sha256.substr(0, 12) << " "
                << flag_text(m.flags) << (m.expunged_at ? " expunged" : " live")
                << " file=" << file_shape(m.file) << " history=";
            for (const auto& h : catalog->flag_history(m.id)) row << flag_text(h.flags);
            v.messages.insert(row.str());
        }
    }
    for (const char* top : {"mail", "attic"}) {
        if (!fs::exists(root / top)) continue;
        for (const auto& e : fs::recursive_directory_iterator(root / top)) {
            const auto rel = fs::relative(e.path(), root).string();
            if (e.is_directory() && e.path().filename() == "cur")
                v.folders.insert(fs::relative(e.path().parent_path(), root).string());
            if (!e.is_regular_file()) continue;
            const auto leaf = e.path().parent_path().filename().string();
            if (leaf == "tmp")
                v.tmp_files.push_back(rel);
            else if (leaf == "cur" || leaf == "new")
                v.files.insert(file_shape(rel) + " " +
                               util::sha256_file_hex(e.path().string()).substr(0, 12));
        }
    }
    return v;
}

// Lines "- what" (in the reference, missing here: lost) and "+ what" (here, not
// in the reference: duplicated or stray).
std::vector<std::string> diff(const std::string& kind, const std::multiset<std::string>& want,
                              const std::multiset<std::string>& got) {
    std::vector<std::string> lost, extra, out;
    std::set_difference(want.begin(), want.end(), got.begin(), got.end(), std::back_inserter(lost));
    std::set_difference(got.begin(), got.end(), want.begin(), want.end(),
                        std::back_inserter(extra));
    for (const auto& l : lost) out.push_back("- " + kind + " " + l);
    for (const auto& e : extra) out.push_back("+ " + kind + " " + e);
    return out;
}

std::vector<std::string> differences(const StoreView& want, const StoreView& got) {
    std::vector<std::string> out;
    for (auto part :
         {diff("mailbox", want.mailboxes, got.mailboxes), diff("row", want.messages, got.messages),
          diff("file", want.files, got.files), diff("folder", want.folders, got.folders)})
        out.insert(out.end(), part.begin(), part.end());
    for (const auto& t : got.tmp_files) out.push_back("+ tmp " + t);
    return out;
}

std::string joined(const std::vector<std::string>& lines, std::size_t max = 40) {
    std::string out;
    for (std::size_t i = 0; i < lines.size() && i < max; ++i) out += lines[i] + "\n";
    if (lines.size() > max) out += "... " + std::to_string(lines.size() - max) + " more\n";
    return out;
}

// ---- Runs -----------------------------------------------------------------

// A trial directory: DIR/config.toml for the store DIR/store.
struct Workspace {
    explicit Workspace(ServerKind k) : kind(k) {}
    ServerKind kind;
    TempDir dir;
    fs::path store() const { return dir.path / "store"; }
    std::string config(int connections) const {
        auto path = dir.path / ("config" + std::to_string(connections) + ".toml");
        std::ofstream f(path);
        f << "[store]\npath = \"" << store().string() << "\"\n\n"
          << "[[account]]\nname = \"" << kAccount << "\"\n"
          << "host = \"" << env("IMAPKEEP_TEST_HOST").value_or("127.0.0.1") << "\"\n"
          << "port = " << env(server_port_variable(kind)).value_or("143") << "\n"
          << "tls = \"none\"\nallow_plaintext_auth = true\n"
          << "user = \"" << test_user(kUser) << "\"\npassword = \"" << test_password(kUser)
          << "\"\n"
          << "mailboxes = [\"*\"]\nconnections = " << connections << "\n"
          // Every connection at once, however small the change: the trials
          // with 4 are about workers killed side by side.
          << "connection_cost_ms = 0\n";
        f.close();
        fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
        return path.string();
    }
    ChildResult backup(int connections,
                       std::optional<std::chrono::microseconds> kill_after = {}) const {
        return run_imapkeep_binary({"backup", "--config", config(connections), "-q"}, dir.path,
                                   kill_after);
    }
    // `verify --server`: every file re-hashed, and UIDs and flags compared with the server.
    ChildResult verify() const {
        return run_imapkeep_binary({"verify", "--config", config(4), "--server"}, dir.path);
    }
};

std::uint64_t seed_from_env() {
    if (auto s = env("IMAPKEEP_TEST_SEED")) return std::stoull(*s);
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) | rd();
}

struct Window {
    double from_ms, to_ms;
};

// [0, duration of the uninterrupted run), unless IMAPKEEP_TEST_KILL_WINDOW_MS says otherwise.
Window kill_window(double reference_seconds) {
    if (auto w = env("IMAPKEEP_TEST_KILL_WINDOW_MS")) {
        auto colon = w->find(':');
        return {std::stod(w->substr(0, colon)), std::stod(w->substr(colon + 1))};
    }
    return {0, reference_seconds * 1000};
}

struct TrialOutcome {
    bool landed = false;
    bool ok = false;
};

// One trial: optionally start from a copy of `start`, kill a run at `kill_ms`,
// run again to the end, and compare with `reference`.
TrialOutcome kill_trial(ServerKind kind, const std::string& label,
                        const std::optional<fs::path>& start, int connections, double kill_ms,
                        const StoreView& reference) {
    Workspace ws(kind);
    if (start) copy_tree(*start, ws.store());
    const auto after = std::chrono::microseconds(static_cast<std::int64_t>(kill_ms * 1000));
    auto killed = ws.backup(connections, after);
    TrialOutcome outcome;
    outcome.landed = killed.killed;
    INFO(label << ", connections " << connections << ", kill at " << kill_ms << " ms");
    if (!killed.killed) {
        INFO("the run that was not killed: " << killed.err);
        CHECK(killed.code == 0);
    }

    auto clean = ws.backup(connections);
    INFO("clean run stderr: " << clean.err);
    CHECK(clean.code == 0);
    auto got = view_of(ws.store());
    auto problems = differences(reference, got);
    INFO("store vs reference (- lost, + extra):\n" << joined(problems));
    CHECK(problems.empty());

    // --server also re-hashes every file against the catalog.
    auto verify = ws.verify();
    INFO("verify --server: " << verify.out << verify.err);
    CHECK(verify.code == 0);

    auto again = ws.backup(connections);
    INFO("second clean run stderr: " << again.err);
    CHECK(again.code == 0);
    auto second = differences(got, view_of(ws.store()));
    INFO("second clean run changed:\n" << joined(second));
    CHECK(second.empty());

    outcome.ok = clean.code == 0 && problems.empty() && verify.code == 0 && again.code == 0 &&
                 second.empty() && (killed.killed || killed.code == 0);
    std::cout << label << ": connections " << connections << ", kill at " << std::fixed
              << std::setprecision(1) << kill_ms << " ms: "
              << (killed.killed ? "killed while running"
                                : "run had exited (" + std::to_string(killed.code) + ")")
              << "; then runs of " << std::setprecision(2) << clean.seconds << " s, "
              << again.seconds << " s, verify " << verify.seconds
              << " s: " << (outcome.ok ? "ok" : "FAILED");
    if (!problems.empty()) {
        auto count = [&](const std::string& prefix) {
            return std::count_if(problems.begin(), problems.end(),
                                 [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
        };
        std::cout << " (rows lost " << count("- row") << ", rows extra " << count("+ row")
                  << ", files lost " << count("- file") << ", files extra " << count("+ file")
                  << ", tmp files " << count("+ tmp") << ")";
    }
    std::cout << std::endl;
    return outcome;
}

// An uninterrupted run into `ws` (from a copy of `start` if given): must exit 0,
// verify clean against the server, and a second run must change nothing.
ChildResult reference_run(const Workspace& ws, const std::optional<fs::path>& start,
                          int connections) {
    if (start) copy_tree(*start, ws.store());
    auto r = ws.backup(connections);
    INFO("reference run (connections " << connections << "): " << r.err);
    REQUIRE(r.code == 0);
    auto first = view_of(ws.store());
    REQUIRE(first.tmp_files.empty());
    auto verify = ws.verify();
    INFO("verify --server: " << verify.out << verify.err);
    REQUIRE(verify.code == 0);
    auto again = ws.backup(connections);
    REQUIRE(again.code == 0);
    auto changed = differences(first, view_of(ws.store()));
    INFO("a second run changed:\n" << joined(changed));
    REQUIRE(changed.empty());
    return r;
}

// How long an uninterrupted run takes: the shorter of `measured` and one more
// run, so that one run stalled by a busy machine does not stretch the window
// past the end of most runs.
double run_seconds(ServerKind kind, double measured, const std::optional<fs::path>& start,
                   int connections) {
    Workspace ws(kind);
    if (start) copy_tree(*start, ws.store());
    auto r = ws.backup(connections);
    INFO("timing run (connections " << connections << "): " << r.err);
    REQUIRE(r.code == 0);
    return std::min(measured, r.seconds);
}

struct Tally {
    int trials = 0, landed = 0, failed = 0;
};

// Trials until `count` kills landed, at most 2 * `count`; connections
// alternate 4 and 1, each with the kill window of its own uninterrupted run. A
// run that was over before its kill shows the window was too long (it was
// timed while the machine was busier): the window ends before that moment
// from then on, and the trial does not count towards `count`.
Tally run_trials(ServerKind kind, const std::string& phase, int count, std::mt19937_64& rng, Window window4,
                 Window window1, const std::optional<fs::path>& start,
                 const StoreView& reference) {
    Tally t;
    // A fraction of the window, so that a seed replays the same moments
    // relative to however long the run takes on this machine.
    std::uniform_real_distribution<double> fraction(0, 1);
    for (int i = 0; t.landed < count && i < 2 * count; ++i) {
        const int connections = i % 2 ? 1 : 4;
        Window& window = connections == 4 ? window4 : window1;
        const double kill_ms = window.from_ms + fraction(rng) * (window.to_ms - window.from_ms);
        auto o = kill_trial(kind, phase + " trial " + std::to_string(i + 1), start, connections,
                            kill_ms, reference);
        ++t.trials;
        t.landed += o.landed;
        if (!o.landed) window.to_ms = std::max(window.from_ms, kill_ms * 0.9);
        t.failed += !o.ok;
    }
    std::cout << phase << ": " << t.landed << " of " << t.trials << " kills landed, " << t.failed
              << " trials failed" << std::endl;
    return t;
}

}  // namespace

TEST_CASE("imapkeep backup killed at random moments loses and duplicates nothing",
          "[integration][kill]") {
    for (auto kind : servers_under_test())
        DYNAMIC_SECTION(server_name(kind)) {
            REQUIRE(env("IMAPKEEP_TEST_USER4"));  // scripts/test-env/up.sh provides it
            const std::uint64_t seed = seed_from_env();
            std::cout << server_name(kind) << ": kill test seed " << seed
                      << " (replay: IMAPKEEP_TEST_SEED=" << seed << ")" << std::endl;
            INFO("seed " << seed << " (IMAPKEEP_TEST_SEED replays it)");
            std::mt19937_64 rng(seed);
            // The full count on Dovecot; Cyrus, the second server, gets fewer.
            const int trials = kind == ServerKind::Dovecot
                                   ? std::stoi(env("IMAPKEEP_TEST_KILL_TRIALS").value_or("20"))
                                   : std::stoi(env("IMAPKEEP_TEST_CYRUS_KILL_TRIALS").value_or("6"));

            Server server(kind);
            server.reset();
            server.seed();

            // The first backup, uninterrupted: S0, and how long it takes.
            Workspace s0(kind);
            auto first4 = reference_run(s0, std::nullopt, 4);
            const StoreView first_view = view_of(s0.store());
            Workspace first_one(kind);
            auto first1 = reference_run(first_one, std::nullopt, 1);
            {
                auto d = differences(first_view, view_of(first_one.store()));
                INFO("first backup, connections 1 vs 4:\n" << joined(d));
                REQUIRE(d.empty());
            }
            const double first_s4 = run_seconds(kind, first4.seconds, std::nullopt, 4);
            const double first_s1 = run_seconds(kind, first1.seconds, std::nullopt, 1);
            std::cout << "first backup: " << first_view.messages.size() << " messages, " << first_s4
                      << " s (connections 4), " << first_s1 << " s (connections 1)" << std::endl;

            // Killed during the first backup: from a fresh store each time.
            auto t1 = run_trials(kind, "first backup", std::max(1, trials / 2), rng, kill_window(first_s4),
                                 kill_window(first_s1), std::nullopt, first_view);
            CHECK(t1.failed == 0);
            CHECK(t1.landed * 4 >= std::max(1, trials / 2) * 3);

            // Killed during an incremental backup: each time from a copy of S0.
            server.change();
            // The server stays as it is now. R: S0 plus one uninterrupted run.
            Workspace r(kind);
            auto incremental4 = reference_run(r, s0.store(), 4);
            const StoreView reference = view_of(r.store());
            Workspace r_one(kind);
            auto incremental1 = reference_run(r_one, s0.store(), 1);
            {
                auto d = differences(reference, view_of(r_one.store()));
                INFO("incremental backup, connections 1 vs 4:\n" << joined(d));
                REQUIRE(d.empty());
            }
            const double incremental_s4 = run_seconds(kind, incremental4.seconds, s0.store(), 4);
            const double incremental_s1 = run_seconds(kind, incremental1.seconds, s0.store(), 1);
            std::cout << "incremental backup: " << reference.messages.size() << " messages, "
                      << incremental_s4 << " s (connections 4), " << incremental_s1 << " s (connections 1)"
                      << std::endl;
            auto t2 = run_trials(kind, "incremental", trials, rng, kill_window(incremental_s4),
                                 kill_window(incremental_s1), s0.store(), reference);
            CHECK(t2.failed == 0);
            CHECK(t2.landed * 4 >= trials * 3);
        }
}
