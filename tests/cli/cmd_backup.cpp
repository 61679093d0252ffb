#include "cli_fixture.hpp"

#include "cli/budget_report.hpp"
#include "cli/lock.hpp"

#include <imapkeep/store/sqlite_catalog.hpp>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>

using cli_test::CliFixture;
using namespace imapkeep;

namespace {

// Stands in for sync::backup_account: returns the reports a test scripts per
// account, records what it was asked, and asks for the password as a real
// connection would.
struct ScriptedEngine {
    std::map<std::string, sync::AccountReport> reports;
    std::map<std::string, std::string> throws;  // account -> "auth" | "stop" | "refused"
    // Reports returned by the first calls for an account, in order (then `reports`).
    std::map<std::string, std::vector<sync::AccountReport>> attempts;
    std::vector<std::string> called;
    std::map<std::string, bool> connected_early;  // account -> it came with an EarlyConnection
    sync::BackupOptions last_options;

    cli::Services services() {
        return {[this](const sync::AccountConfig& account, store::Catalog&, store::MessageStore&,
                       const sync::BackupOptions& options) {
            called.push_back(account.name);
            connected_early[account.name] = account.connect.early != nullptr;
            last_options = options;
            (void)account.connect.password();
            auto t = throws.find(account.name);
            if (t != throws.end() && t->second == "auth")
                throw imap::ConnectError(imap::ConnectError::Kind::Auth, "LOGIN failed");
            if (t != throws.end() && t->second == "stop") throw sync::StopRequested{};
            if (t != throws.end() && t->second == "refused")
                throw imap::ConnectError(imap::ConnectError::Kind::Network, "connection refused");
            if (auto& queue = attempts[account.name]; !queue.empty()) {
                sync::AccountReport r = queue.front();
                queue.erase(queue.begin());
                r.account = account.name;
                return r;
            }
            auto it = reports.find(account.name);
            sync::AccountReport r = it == reports.end() ? sync::AccountReport{} : it->second;
            r.account = account.name;
            return r;
        }};
    }
};

sync::MailboxReport mailbox(const std::string& name, std::uint64_t new_messages, bool failed = false) {
    sync::MailboxReport m;
    m.name = name;
    m.path = "QRESYNC";
    m.new_messages = new_messages;
    m.bytes = new_messages * 1000;
    if (failed) m.errors.push_back("UID FETCH failed");
    return m;
}

}  // namespace

TEST_CASE("backup runs every account, records the run and prints a summary", "[backup]") {
    CliFixture f;
    ScriptedEngine engine;
    engine.reports["work"].mailboxes = {mailbox("INBOX", 3), mailbox("Sent", 1)};
    engine.reports["home"].mailboxes = {mailbox("INBOX", 0)};

    auto r = f.run({"backup", "--config", f.config}, engine.services());
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(engine.called == std::vector<std::string>{"work", "home"});
    CHECK(r.out == "work: 2 mailboxes, 4 new (3.9 KB), 0 flag changes, 0 expunged\n"
                   "home: 1 mailbox, 0 new (0 B), 0 flag changes, 0 expunged\n");
    CHECK(r.err.empty());
    CHECK(engine.last_options.open_catalog);  // parallel workers open their own
    CHECK(engine.last_options.progress != nullptr);
    CHECK_FALSE(engine.last_options.dry_run);

    auto catalog = store::open_sqlite_catalog(f.store + "/catalog.sqlite");
    auto run = catalog->last_run("backup");
    REQUIRE(run);
    CHECK(run->status == "ok");
    CHECK(run->finished_at);
    auto stored = nlohmann::json::parse(run->report_json);
    CHECK(stored["accounts"][0]["totals"]["new"] == 4);
    // The stored record lists the mailboxes where something happened and
    // counts the rest: an hourly run over 1,000 quiet mailboxes stored 170 KB.
    CHECK(stored["accounts"][0]["mailboxes"].size() == 2);
    CHECK(stored["accounts"][1]["mailboxes"].empty());
    CHECK(stored["accounts"][1]["quiet_mailboxes"] == 1);
    CHECK(stored["accounts"][1]["totals"]["mailboxes"] == 1);

    // --json on stdout still lists every mailbox.
    auto json = f.run({"backup", "--config", f.config, "--json"}, engine.services());
    auto printed = nlohmann::json::parse(json.out);
    CHECK(printed["accounts"][1]["mailboxes"].size() == 1);
}

TEST_CASE("backup exit codes, selection and quiet output", "[backup]") {
    struct Case {
        const char* what;
        std::vector<std::string> args;
        std::map<std::string, std::string> throws;
        bool work_mailbox_fails;
        int code;
        std::vector<std::string> called;
        const char* out;
        const char* err_has;
        const char* run_status;
    };
    const Case cases[] = {
        {"quiet and all well: silence", {"-q"}, {}, false, 0, {"work", "home"}, "", "", "ok"},
        {"quiet with a failed mailbox: only the failure", {"-q"}, {}, true, 1, {"work", "home"}, "",
         "work: Broken: UID FETCH failed\n", "partial"},
        {"auth failure is 3, the other account still runs", {"-q"}, {{"work", "auth"}}, false, 3,
         {"work", "home"}, "", "work: cannot connect: LOGIN failed\n", "failed"},
        {"--account selects", {"-q", "--account", "home"}, {}, false, 0, {"home"}, "", "", "ok"},
        {"stop hook: 75 and the run stays unfinished", {"-q"}, {{"work", "stop"}}, false, 75, {"work"}, "",
         "stopped after", "running"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        CliFixture f;
        ScriptedEngine engine;
        engine.throws = c.throws;
        engine.reports["work"].mailboxes = {mailbox("INBOX", 1)};
        if (c.work_mailbox_fails) engine.reports["work"].mailboxes.push_back(mailbox("Broken", 0, true));
        std::vector<std::string> args = {"backup", "--config", f.config};
        args.insert(args.end(), c.args.begin(), c.args.end());
        auto r = f.run(args, engine.services());
        INFO(r.err);
        CHECK(r.code == c.code);
        CHECK(engine.called == c.called);
        CHECK(r.out == c.out);
        CHECK(r.err.find(c.err_has) != std::string::npos);
        auto catalog = store::open_sqlite_catalog(f.store + "/catalog.sqlite");
        auto run = catalog->last_run("backup");
        REQUIRE(run);
        CHECK(run->status == c.run_status);
    }
}

TEST_CASE("--json prints the report, never a password", "[backup]") {
    CliFixture f;
    ScriptedEngine engine;
    engine.reports["work"].mailboxes = {mailbox("INBOX", 2), mailbox("Junk", 0, true)};
    auto r = f.run({"backup", "--config", f.config, "--json", "--mailbox", "INBOX", "--mailbox", "Junk"},
                   engine.services());
    CHECK(r.code == 1);
    CHECK(engine.last_options.mailbox_filter == std::vector<std::string>{"INBOX", "Junk"});
    auto json = nlohmann::json::parse(r.out);
    CHECK(json["exit_code"] == 1);
    CHECK(json["status"] == "partial");
    CHECK(json["accounts"].size() == 2);
    CHECK(json["accounts"][0]["mailboxes"][1]["errors"][0] == "UID FETCH failed");
    for (const char* secret : {"hunter2-secret", "hunter3-secret"}) {
        CHECK(r.out.find(secret) == std::string::npos);
        CHECK(r.err.find(secret) == std::string::npos);
    }
    auto catalog = store::open_sqlite_catalog(f.store + "/catalog.sqlite");
    CHECK(catalog->last_run("backup")->report_json.find("hunter") == std::string::npos);
}

TEST_CASE("--dry-run records no run", "[backup]") {
    CliFixture f;
    ScriptedEngine engine;
    REQUIRE(f.run({"backup", "--config", f.config, "-q"}, engine.services()).code == 0);
    const auto real = store::open_sqlite_catalog(f.store + "/catalog.sqlite")->last_run("backup");
    REQUIRE(real);
    auto r = f.run({"backup", "--config", f.config, "--dry-run"}, engine.services());
    CHECK(r.code == 0);
    CHECK(engine.last_options.dry_run);
    CHECK(r.out.rfind("(dry run) work: ", 0) == 0);
    auto catalog = store::open_sqlite_catalog(f.store + "/catalog.sqlite");
    CHECK(catalog->last_run("backup")->id == real->id);
}

namespace {

// Every entry under `root` with its size and modification time.
std::map<std::string, std::pair<std::uintmax_t, std::int64_t>> listing(const std::string& root) {
    std::map<std::string, std::pair<std::uintmax_t, std::int64_t>> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
        auto size = e.is_regular_file() ? e.file_size() : 0;
        out[e.path().string()] = {size, e.last_write_time().time_since_epoch().count()};
    }
    return out;
}

}  // namespace

// Issue 11: "--dry-run (change nothing) creates the store folder, .lock and
// catalog.sqlite". A dry run reads a copy of the catalog and writes nowhere,
// even if the engine tried to (its writes land in the copy).
TEST_CASE("--dry-run writes nothing anywhere, and needs no lock", "[backup]") {
    CliFixture f;
    ScriptedEngine engine;
    SECTION("no store yet: none is created") {
        auto r = f.run({"backup", "--config", f.config, "--dry-run"}, engine.services());
        INFO(r.err);
        CHECK(r.code == 0);
        CHECK_FALSE(std::filesystem::exists(f.store));
    }
    SECTION("an existing store: not a byte or a time stamp changes") {
        REQUIRE(f.run({"backup", "--config", f.config, "-q"}, engine.services()).code == 0);
        const auto before = listing(f.store);
        cli::Services writing = engine.services();
        writing.backup_account = [&](const sync::AccountConfig& account, store::Catalog& catalog,
                                     store::MessageStore& messages, const sync::BackupOptions& options) {
            catalog.ensure_account("written-by-a-dry-run");
            return engine.services().backup_account(account, catalog, messages, options);
        };
        auto r = f.run({"backup", "--config", f.config, "--dry-run"}, writing);
        INFO(r.err);
        CHECK(r.code == 0);
        CHECK(listing(f.store) == before);
        auto catalog = store::open_sqlite_catalog(f.store + "/catalog.sqlite");
        CHECK_FALSE(catalog->find_account("written-by-a-dry-run"));
    }
    SECTION("another run holds the lock: a dry run still reads") {
        REQUIRE(f.run({"backup", "--config", f.config, "-q"}, engine.services()).code == 0);
        cli::StoreLock held(f.store);
        auto r = f.run({"backup", "--config", f.config, "--dry-run"}, engine.services());
        INFO(r.err);
        CHECK(r.code == 0);
    }
}

TEST_CASE("a second run while the store is locked exits 75", "[backup]") {
    CliFixture f;
    ScriptedEngine engine;
    cli::StoreLock held(f.store);
    auto r = f.run({"backup", "--config", f.config, "-q"}, engine.services());
    CHECK(r.code == 75);
    CHECK(r.err == "imapkeep: another imapkeep run holds the lock on " + f.store + " (pid " +
                       std::to_string(::getpid()) + ")\n");
    CHECK(engine.called.empty());
}

TEST_CASE("the first account's connection opens while the store opens", "[backup]") {
    // Issue 10: the server's greeting then waits in the socket, not the run
    // for it. The other accounts connect when their turn comes.
    CliFixture f;
    ScriptedEngine engine;
    auto r = f.run({"backup", "--config", f.config, "-q"}, engine.services());
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(engine.connected_early == std::map<std::string, bool>{{"work", true}, {"home", false}});
    // One account named on the command line: it is the first.
    engine.connected_early.clear();
    r = f.run({"backup", "--config", f.config, "-q", "--account", "home"}, engine.services());
    CHECK(r.code == 0);
    CHECK(engine.connected_early == std::map<std::string, bool>{{"home", true}});
}

TEST_CASE("the stop-after test hook reaches the engine", "[backup]") {
    CliFixture f;
    ScriptedEngine engine;
    ::setenv(cli::kStopAfterEnv, "7", 1);
    auto r = f.run({"backup", "--config", f.config, "-q"}, engine.services());
    ::unsetenv(cli::kStopAfterEnv);
    CHECK(r.code == 0);
    CHECK(engine.last_options.stop_after_steps == 7);
}

TEST_CASE("an account whose connection dropped is run again, and the run counts every attempt", "[backup][retry]") {
    CliFixture f;
    f.write_config("retries = 2\nretry_delay = 0.001\n");
    ScriptedEngine engine;
    auto cut = mailbox("INBOX", 3);
    cut.errors.push_back("socket error: EOF");
    cut.connection_lost = true;
    sync::AccountReport first;
    first.mailboxes = {cut};
    engine.attempts["work"] = {first};
    engine.reports["work"].mailboxes = {mailbox("INBOX", 2)};

    auto r = f.run({"backup", "--config", f.config}, engine.services());
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(engine.called == std::vector<std::string>{"work", "work", "home"});
    CHECK(r.err == "imapkeep: backup work: attempt 1 of 3 failed (INBOX: socket error: EOF); trying again in 0.001 s\n");
    CHECK(r.out.rfind("work: 1 mailbox, 5 new", 0) == 0);
}

TEST_CASE("retries that run out: 3 when the account never connected, 1 when it did", "[backup][retry]") {
    struct Case {
        const char* what;
        bool connects;
        int code;
        const char* err_has;
    };
    const Case cases[] = {
        {"refused every time", false, 3, "imapkeep: backup work: gave up after 3 attempts: connection refused\n"},
        {"cut every time", true, 1, "imapkeep: backup work: gave up after 3 attempts: INBOX: socket error: EOF\n"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        CliFixture f;
        f.write_config("retries = 2\nretry_delay = 0\n");
        ScriptedEngine engine;
        if (c.connects) {
            auto cut = mailbox("INBOX", 1);
            cut.errors.push_back("socket error: EOF");
            cut.connection_lost = true;
            engine.reports["work"].mailboxes = {cut};
        } else {
            engine.throws["work"] = "refused";
        }
        auto r = f.run({"backup", "--config", f.config, "-q"}, engine.services());
        INFO(r.err);
        CHECK(r.code == c.code);
        CHECK(engine.called == std::vector<std::string>{"work", "work", "work", "home"});
        CHECK(r.err.find(c.err_has) != std::string::npos);
        CHECK(r.err.find("attempt 1 of 3") == std::string::npos);  // -q: no retry lines
    }
}

TEST_CASE("an authentication failure is not retried", "[backup][retry]") {
    CliFixture f;
    f.write_config("retries = 5\nretry_delay = 0\n");
    ScriptedEngine engine;
    engine.throws["work"] = "auth";
    auto r = f.run({"backup", "--config", f.config}, engine.services());
    CHECK(r.code == 3);
    CHECK(engine.called == std::vector<std::string>{"work", "home"});
    CHECK(r.err.find("attempt") == std::string::npos);
}

namespace {

// An engine that is interrupted while it syncs `work`: `saved` messages are
// durable, then the signal comes and the engine stops at its next boundary.
cli::Services interrupted_engine(int signal, std::uint64_t saved, std::vector<std::string>& called) {
    return {[signal, saved, &called](const sync::AccountConfig& account, store::Catalog&, store::MessageStore&,
                                     const sync::BackupOptions& options) {
        called.push_back(account.name);
        if (options.progress) options.progress->messages_saved += saved;
        std::raise(signal);
        REQUIRE(options.stop);
        REQUIRE(options.stop->load());
        throw sync::StopRequested{};
        return sync::AccountReport{};
    }};
}

}  // namespace

TEST_CASE("Ctrl-C or SIGTERM: the run stops, says what was saved, exits 130 or 143", "[backup][interrupt]") {
    struct Case {
        int signal;
        std::uint64_t saved;
        int code;
        const char* line;
    };
    const Case cases[] = {
        {SIGINT, 0, 130, "interrupted: 0 messages saved; the next run resumes\n"},
        {SIGINT, 1, 130, "interrupted: 1 message saved; the next run resumes\n"},
        {SIGTERM, 250, 143, "interrupted: 250 messages saved; the next run resumes\n"},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION("signal " << c.signal << ", " << c.saved << " saved") {
            CliFixture f;
            std::vector<std::string> called;
            struct sigaction before {};
            ::sigaction(c.signal, nullptr, &before);
            auto r = f.run({"backup", "--config", f.config}, interrupted_engine(c.signal, c.saved, called));
            CHECK(r.code == c.code);
            CHECK(r.err == c.line);
            CHECK(called == std::vector<std::string>{"work"});  // the next account never starts
            auto status = f.run({"status", "--config", f.config});
            CHECK_THAT(status.out, Catch::Contains("(interrupted; the next backup resumes it)"));
            // The handlers are gone with the run: the earlier action again.
            struct sigaction after {};
            ::sigaction(c.signal, nullptr, &after);
            CHECK(after.sa_handler == before.sa_handler);
        }
    }
}

TEST_CASE("a run the daily budget stopped exits 75 and says what is left, even with -q", "[backup][budget]") {
    struct Case {
        const char* what;
        std::string reason;
        bool uncounted;
        const char* line;
    };
    const Case cases[] = {
        {"our daily_download_mb", "daily_download_mb", false,
         "work: budget reached, 5 messages left, resumes next run\n"},
        {"the server's daily limit", "Account exceeded command or bandwidth limits. (Failure)",
         true,
         "work: the server's daily limit is reached (Account exceeded command or bandwidth limits. "
         "(Failure)), "
         "at least 5 messages left, resumes next run\n"},
        {"the server still throttling after the retries",
         "still throttled after 8 waits: [UNAVAILABLE] still down", true,
         "work: the server kept throttling (still throttled after 8 waits: [UNAVAILABLE] still "
         "down), at least 5 "
         "messages left, resumes next run\n"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        CliFixture f;
        ScriptedEngine engine;
        auto inbox = mailbox("INBOX", 2);
        inbox.deferred = 5;
        inbox.deferred_bytes = 5000;
        engine.reports["work"].mailboxes = {inbox};
        engine.reports["work"].budget_reached = true;
        engine.reports["work"].budget_reason = c.reason;
        engine.reports["work"].messages_left_uncounted = c.uncounted;
        engine.reports["home"].mailboxes = {mailbox("INBOX", 1)};
        auto r = f.run({"backup", "--config", f.config, "-q"}, engine.services());
        CHECK(r.code == 75);
        CHECK(r.err.find(c.line) != std::string::npos);
        auto catalog = store::open_sqlite_catalog(f.store + "/catalog.sqlite");
        auto run = catalog->last_run("backup");
        REQUIRE(run);
        auto stored = nlohmann::json::parse(run->report_json);
        CHECK(stored["exit_code"] == 75);
        CHECK(run->status == "budget");
        CHECK(stored["accounts"][0]["budget"]["messages_left"] == 5);
        CHECK(stored["accounts"][0]["budget"]["bytes_left"] == 5000);
        CHECK(stored["accounts"][0]["mailboxes"][0]["deferred"] == 5);
    }
}

TEST_CASE("backup passes a pacing-note sink that reaches stderr", "[backup][throttle]") {
    CliFixture f;
    ScriptedEngine engine;
    auto r = f.run({"backup", "--config", f.config}, engine.services());
    REQUIRE(engine.last_options.pacing_note);
}

TEST_CASE("a run stopped before any mailbox was counted says so, not \"at least 0 messages left\"",
          "[backup][budget]") {
    sync::AccountReport r;
    r.budget_reached = true;
    r.messages_left_uncounted = true;
    r.budget_reason = "still throttled after 8 waits: [UNAVAILABLE] try later";
    CHECK(cli::budget_line(r) == "the server kept throttling (still throttled after 8 waits: [UNAVAILABLE] try "
                                 "later), messages left (not counted yet), resumes next run");
    r.budget_reason = "Account exceeded command or bandwidth limits. (Failure)";
    CHECK(cli::budget_line(r) == "the server's daily limit is reached (Account exceeded command or bandwidth "
                                 "limits. (Failure)), messages left (not counted yet), resumes next run");
}
