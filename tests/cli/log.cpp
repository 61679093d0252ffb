// The run log (log.hpp): the line format, hostile names, and what a backup
// writes to --log-file / log_file.
#include "cli/log.hpp"
#include "cli/log_restore.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "cli_fixture.hpp"

#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>

using cli_test::CliFixture;
using namespace imapkeep;
using namespace imapkeep::cli;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

}  // namespace

TEST_CASE("a log line: UTC time, level, quoted account and mailbox, escaped message", "[log]") {
    // 2024-05-01T10:00:00.250Z
    const auto when =
        std::chrono::system_clock::time_point(std::chrono::milliseconds(1714557600250));
    struct Case {
        const char* name;
        LogLevel level;
        std::string account, mailbox, message;
        std::string line;
    };
    const Case cases[] = {
        {"run line", LogLevel::Info, "", "", "backup started",
         "2024-05-01T10:00:00.250Z info backup started"},
        {"account only", LogLevel::Warning, "work", "", "retrying",
         "2024-05-01T10:00:00.250Z warning account=\"work\" retrying"},
        {"account and mailbox", LogLevel::Error, "work", "INBOX", "UID 3: gone",
         "2024-05-01T10:00:00.250Z error account=\"work\" mailbox=\"INBOX\" UID 3: gone"},
        {"spaces and UTF-8 stay", LogLevel::Info, "work", "Entwürfe/Old mail", "ok",
         "2024-05-01T10:00:00.250Z info account=\"work\" mailbox=\"Entwürfe/Old mail\" ok"},
        {"a newline cannot forge a line", LogLevel::Info, "work",
         "x\n2024-05-01T10:00:00.000Z error account=\"bank\"", "ok",
         "2024-05-01T10:00:00.250Z info account=\"work\" mailbox=\"x\\n2024-05-01T10:00:00.000Z "
         "error "
         "account=\\\"bank\\\"\" ok"},
        {"a quote cannot end the field", LogLevel::Info, "work", "a\" mailbox=\"b", "ok",
         "2024-05-01T10:00:00.250Z info account=\"work\" mailbox=\"a\\\" mailbox=\\\"b\" ok"},
        {"CR, tab, ESC, DEL, backslash", LogLevel::Info, "work", "a\rb\tc\x1b[2Jd\x7f\\", "ok",
         "2024-05-01T10:00:00.250Z info account=\"work\" mailbox=\"a\\rb\\tc\\x1B[2Jd\\x7F\\\\\" "
         "ok"},
        {"invalid UTF-8 is escaped", LogLevel::Info, "work", "a\xff\xc3(", "ok",
         "2024-05-01T10:00:00.250Z info account=\"work\" mailbox=\"a\\xFF\\xC3(\" ok"},
        {"a message with a newline stays one line", LogLevel::Error, "work", "INBOX",
         "NO [x]\r\nfake line",
         "2024-05-01T10:00:00.250Z error account=\"work\" mailbox=\"INBOX\" NO [x]\\r\\nfake line"},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            auto line = format_log_line(when, c.level, c.account, c.mailbox, c.message);
            CHECK(line == c.line);
            CHECK(line.find('\n') == std::string::npos);
            CHECK(line.find('\r') == std::string::npos);
        }
    }
    CHECK(format_log_line(when, LogLevel::Info, "a", "", "m", false) == "info account=\"a\" m");
}

TEST_CASE("syslog: auto means when stderr is not a terminal", "[log]") {
    CHECK(syslog_wanted("auto", false));
    CHECK_FALSE(syslog_wanted("auto", true));
    CHECK(syslog_wanted("yes", true));
    CHECK_FALSE(syslog_wanted("no", false));
}

TEST_CASE("backup --log-file: run start and end, each mailbox with its account, errors",
          "[log][backup]") {
    CliFixture f;
    const std::string log = f.store + ".log";
    std::vector<std::string> called;
    cli::Services services{[&](const sync::AccountConfig& account, store::Catalog&,
                               store::MessageStore&, const sync::BackupOptions&) {
        called.push_back(account.name);
        sync::AccountReport r;
        r.account = account.name;
        sync::MailboxReport inbox;
        inbox.name = "INBOX";
        inbox.path = "QRESYNC";
        inbox.new_messages = 2;
        sync::MailboxReport odd;
        odd.name = "Odd\nname";
        odd.path = "plain";
        odd.errors = {"UID 7: body arrived with 1 of 9 bytes; fetched again next run"};
        // Nothing to say: counted in the account's line, no line of its own (a
        // cron run over 1,000 quiet mailboxes must not log 1,000 lines).
        sync::MailboxReport quiet;
        quiet.name = "Quiet";
        quiet.path = "QRESYNC";
        r.mailboxes = {inbox, quiet, odd};
        return r;
    }};
    auto r = f.run({"--log-file", log, "backup", "--config", f.config, "-q"}, services);
    INFO(r.err);
    CHECK(r.code == 1);
    auto lines = lines_of(slurp(log));
    REQUIRE(lines.size() == 10);
    CHECK_THAT(
        lines[0],
        Catch::Matches(
            R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info backup started: 2 accounts \(work, home\))"));
    CHECK_THAT(lines[1], Catch::EndsWith(" info account=\"work\" mailbox=\"INBOX\" QRESYNC, 2 new "
                                         "(0 B), 0 flag changes, 0 expunged, 0.0 s"));
    CHECK_THAT(lines[2], Catch::EndsWith(" info account=\"work\" mailbox=\"Odd\\nname\" plain, 0 "
                                         "new (0 B), 0 flag changes, 0 expunged, 0.0 s"));
    CHECK_THAT(lines[3], Catch::EndsWith(" error account=\"work\" mailbox=\"Odd\\nname\" UID 7: "
                                         "body arrived with 1 of 9 bytes; fetched again next run"));
    CHECK_THAT(lines[4], Catch::EndsWith(" info account=\"work\" 3 mailboxes, 2 new (0 B), 0 flag "
                                         "changes, 0 expunged; 1 failed"));
    CHECK_THAT(lines[5], Catch::Contains(" account=\"home\" mailbox=\"INBOX\" "));
    CHECK_THAT(
        lines[9],
        Catch::Contains(
            " warning backup finished: partial, exit 1; 6 mailboxes, 4 new (0 B), 2 failed, "));
    struct stat st {};
    REQUIRE(::stat(log.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    // Appends: a second run adds its lines after the first's.
    f.run({"backup", "--config", f.config, "-q", "--log-file", log}, services);
    CHECK(lines_of(slurp(log)).size() == 20);
}

TEST_CASE(
    "log_file in the config, relative to it; an unwritable log is exit 2 before anything runs",
    "[log][backup]") {
    CliFixture f;
    std::vector<std::string> called;
    cli::Services services{[&](const sync::AccountConfig& account, store::Catalog&,
                               store::MessageStore&, const sync::BackupOptions&) {
        called.push_back(account.name);
        sync::AccountReport r;
        r.account = account.name;
        return r;
    }};
    std::string text = slurp(f.config);
    std::ofstream(f.config) << "log_file = \"run.log\"\nsyslog = \"no\"\n" << text;
    auto r = f.run({"backup", "--config", f.config, "-q"}, services);
    CHECK(r.code == 0);
    const auto log = std::filesystem::path(f.config).parent_path() / "run.log";
    CHECK_THAT(slurp(log.string()), Catch::Contains("backup started"));

    called.clear();
    auto bad =
        f.run({"backup", "--config", f.config, "--log-file", "/nonexistent-dir/x.log"}, services);
    CHECK(bad.code == 2);
    CHECK_THAT(bad.err, Catch::Contains("/nonexistent-dir/x.log") && Catch::Contains("log file"));
    CHECK(called.empty());

    std::ofstream(f.config) << "syslog = \"sometimes\"\n" << text;
    auto wrong = f.run({"backup", "--config", f.config});
    CHECK(wrong.code == 2);
    CHECK_THAT(wrong.err, Catch::Contains("syslog"));
}

// Issue 11: "A dry run writes nothing anywhere": not a log file either, for
// backup and restore alike, whether the log comes from --log-file or the config.
TEST_CASE("a dry run writes no log file", "[log][dry-run]") {
    CliFixture f;
    cli::Services services{[&](const sync::AccountConfig& account, store::Catalog&,
                               store::MessageStore&, const sync::BackupOptions&) {
        sync::AccountReport r;
        r.account = account.name;
        return r;
    }};
    const std::string flag_log = f.store + "-flag.log";
    f.run({"backup", "--config", f.config, "--dry-run", "-q", "--log-file", flag_log}, services);
    CHECK_FALSE(std::filesystem::exists(flag_log));

    std::string text = slurp(f.config);
    std::ofstream(f.config) << "log_file = \"dry.log\"\nsyslog = \"no\"\n" << text;
    const auto config_log = std::filesystem::path(f.config).parent_path() / "dry.log";
    f.run({"backup", "--config", f.config, "--dry-run", "-q"}, services);
    CHECK_FALSE(std::filesystem::exists(config_log));
    f.run({"restore", "--config", f.config, "--account", "work", "--to", "work", "--dry-run", "-q"});
    CHECK_FALSE(std::filesystem::exists(config_log));
}

// Issue 11 "Every log line carries the account and mailbox": a restore logs
// each mailbox with the target account, what it could not keep, and failures.
TEST_CASE("a restore logs each mailbox with its account, losses and failures", "[log][restore]") {
    CliFixture f;
    const std::string path = f.store + "-restore.log";
    archive::RestoreReport r;
    r.source_account = "old";
    r.target_account = "new";
    archive::RestoreMailboxReport inbox;
    inbox.source = "INBOX";
    inbox.target = "Restored/INBOX";
    inbox.appended = 1;
    inbox.bytes = 2048;
    inbox.already = 2;
    inbox.dropped_keywords = {{"[Gmail]/Important", 3}};
    archive::RestoreMailboxReport odd;
    odd.source = "Odd\nname";
    odd.target = "Restored/Odd";
    odd.create = true;
    odd.failures.push_back({7, 42, "APPEND refused: NO [OVERQUOTA]"});
    r.mailboxes = {inbox, odd};
    {
        Logger log;
        log.open_file(path);
        log_restore_report(log, r, false);
    }
    auto lines = lines_of(slurp(path));
    REQUIRE(lines.size() == 5);
    CHECK_THAT(lines[0], Catch::EndsWith(" info account=\"new\" mailbox=\"INBOX\" restore -> Restored/INBOX: "
                                         "1 message appended (2.0 KB), 2 already there"));
    CHECK_THAT(lines[1], Catch::EndsWith(" warning account=\"new\" mailbox=\"INBOX\" restored without keyword "
                                         "[Gmail]/Important (3 messages)"));
    CHECK_THAT(lines[2], Catch::EndsWith(" info account=\"new\" mailbox=\"Odd\\nname\" restore -> "
                                         "Restored/Odd (created): 0 messages appended (0 B), 0 already there"));
    CHECK_THAT(lines[3], Catch::EndsWith(" error account=\"new\" mailbox=\"Odd\\nname\" UID 42 (UIDVALIDITY 7): "
                                         "APPEND refused: NO [OVERQUOTA]"));
    CHECK_THAT(lines[4], Catch::EndsWith(" warning account=\"new\" restore old -> new: 2 mailboxes, 1 message "
                                         "appended, 1 failed"));
}

// verify's findings reach the run log with their account (issue 11).
TEST_CASE("verify logs its findings with the account", "[log][verify]") {
    CliFixture f;
    const std::string path = f.store + "-verify.log";
    const std::string file = cli_test::backed_up_store(f.store, 1).front();
    std::ofstream(file, std::ios::app) << "changed";
    auto r = f.run({"verify", "--config", f.config, "--account", "work", "--log-file", path});
    INFO(r.out << r.err);
    CHECK(r.code == 1);
    auto lines = lines_of(slurp(path));
    REQUIRE(lines.size() == 2);
    CHECK_THAT(lines[0], Catch::Contains(" error account=\"work\" size: ") && Catch::Contains("UID 1 of INBOX"));
    CHECK_THAT(lines[1], Catch::EndsWith(" info account=\"work\" files: 1 problem"));
}

// export writes its result to the run log like the other commands (issue 11
// left it out).
TEST_CASE("export logs what it wrote, with the account", "[log][export]") {
    CliFixture f;
    const std::string path = f.store + "-export.log";
    cli_test::backed_up_store(f.store, 1);
    const std::string out = f.store + "-out";
    auto r = f.run({"export", "--config", f.config, "--account", "work", "--format", "maildir",
                    "--output", out, "--log-file", path});
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    auto lines = lines_of(slurp(path));
    REQUIRE(lines.size() == 1);
    CHECK_THAT(lines[0], Catch::Contains(" info account=\"work\" export: 1 mailbox, 1 message (") &&
                             Catch::EndsWith(" written to " + out + " (maildir)"));
}
