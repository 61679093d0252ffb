#include "cli/report.hpp"

#include <catch2/catch.hpp>

#include <sstream>

using namespace imapkeep;
using namespace imapkeep::cli;

namespace {

std::vector<sync::AccountReport> sample_reports() {
    sync::AccountReport work;
    work.account = "work";
    sync::MailboxReport inbox;
    inbox.name = "INBOX";
    inbox.path = "QRESYNC";
    inbox.new_messages = 3;
    inbox.flag_changes = 2;
    inbox.expunged = 1;
    inbox.bytes = 3000;
    inbox.seconds = 0.25;
    sync::MailboxReport archive;
    archive.name = "Archive/2023";
    archive.path = "plain";
    archive.new_messages = 5;
    archive.bytes = 2 * 1024 * 1024;
    archive.renamed = true;
    archive.renamed_from = "Old";
    archive.errors.push_back("UID FETCH failed: NO [LIMIT] too big");
    work.mailboxes = {inbox, archive};

    sync::AccountReport home;
    home.account = "home";
    home.connect_failed = true;
    home.error_kind = imap::ConnectError::Kind::Auth;
    home.error = "LOGIN failed: [AUTHENTICATIONFAILED] Authentication failed.";
    return {work, home};
}

}  // namespace

TEST_CASE("the JSON run report has the documented shape", "[report]") {
    RunInfo run;
    run.started_at = 1714557600;  // 2024-05-01T10:00:00Z
    run.finished_at = 1714557602;
    run.seconds = 1.5;
    run.exit_code = 3;
    auto json = run_report_json(run, sample_reports());

    CHECK(json["command"] == "backup");
    CHECK(json["started_at"] == "2024-05-01T10:00:00Z");
    CHECK(json["finished_at"] == "2024-05-01T10:00:02Z");
    CHECK(json["exit_code"] == 3);
    CHECK(json["status"] == "failed");
    CHECK(json["dry_run"] == false);
    REQUIRE(json["accounts"].size() == 2);

    const auto& work = json["accounts"][0];
    CHECK(work["name"] == "work");
    CHECK(work["error"].is_null());
    CHECK(work["error_kind"].is_null());
    CHECK(work["totals"]["mailboxes"] == 2);
    CHECK(work["totals"]["new"] == 8);
    CHECK(work["totals"]["flag_changes"] == 2);
    CHECK(work["totals"]["expunged"] == 1);
    CHECK(work["totals"]["bytes"] == 3000 + 2 * 1024 * 1024);
    CHECK(work["totals"]["failed"] == 1);

    const auto& inbox = work["mailboxes"][0];
    for (const char* key : {"name", "path", "new", "flag_changes", "expunged", "bytes", "seconds", "errors",
                            "created", "deleted", "renamed_from", "uidvalidity_reset"})
        CHECK(inbox.contains(key));
    CHECK(inbox["name"] == "INBOX");
    CHECK(inbox["path"] == "QRESYNC");
    CHECK(inbox["new"] == 3);
    CHECK(inbox["seconds"] == 0.25);
    CHECK(inbox["errors"].is_array());
    CHECK(inbox["errors"].empty());
    CHECK(inbox["renamed_from"].is_null());
    const auto& archive = work["mailboxes"][1];
    CHECK(archive["renamed_from"] == "Old");
    CHECK(archive["errors"][0] == "UID FETCH failed: NO [LIMIT] too big");

    const auto& home = json["accounts"][1];
    CHECK(home["error"] == "LOGIN failed: [AUTHENTICATIONFAILED] Authentication failed.");
    CHECK(home["error_kind"] == "auth");
    CHECK(home["transient"] == false);
    CHECK(home["mailboxes"].empty());
}

TEST_CASE("summary lines by verbosity; failures always reach stderr", "[report]") {
    struct Case {
        Verbosity verbosity;
        bool dry_run;
        std::vector<std::string> out_has;
        std::vector<std::string> out_lacks;
    };
    const Case cases[] = {
        {Verbosity::Quiet, false, {}, {"work"}},
        {Verbosity::Normal, false,
         {"work: 2 mailboxes, 8 new (2.0 MB), 2 flag changes, 1 expunged; 1 failed\n"},
         {"INBOX"}},
        {Verbosity::Verbose, false,
         {"work: INBOX: QRESYNC, 3 new (2.9 KB), 2 flag changes, 1 expunged, 0.2 s\n",
          "work: Archive/2023: plain, 5 new (2.0 MB)", "renamed from Old", "work: 2 mailboxes"},
         {}},
        {Verbosity::Normal, true, {"(dry run) work: 2 mailboxes"}, {}},
    };
    for (const auto& c : cases) {
        std::ostringstream out, err;
        print_summary(out, err, sample_reports(), c.verbosity, c.dry_run);
        INFO(out.str());
        for (const auto& s : c.out_has) CHECK(out.str().find(s) != std::string::npos);
        for (const auto& s : c.out_lacks) CHECK(out.str().find(s) == std::string::npos);
        CHECK(err.str() ==
              "work: Archive/2023: UID FETCH failed: NO [LIMIT] too big\n"
              "home: cannot connect: LOGIN failed: [AUTHENTICATIONFAILED] Authentication failed.\n");
    }
}

// Quirk(O365): a mailbox the server reserves (Files) is a note once per run,
// in the summary, the log and the JSON report; not an error, not under -q.
TEST_CASE("a skipped mailbox is one note line, never an error", "[report]") {
    sync::AccountReport work;
    work.account = "work";
    sync::MailboxReport files;
    files.name = "Files";
    files.path = "skipped";
    files.skipped = "Microsoft 365 reserves the folder Files for copies of attachments, not mail";
    work.mailboxes = {files};
    const std::string line =
        "work: Files: skipped: Microsoft 365 reserves the folder Files for copies of attachments, not mail\n";
    for (auto verbosity : {Verbosity::Normal, Verbosity::Verbose, Verbosity::Quiet}) {
        std::ostringstream out, err;
        print_summary(out, err, {work}, verbosity, false);
        INFO(out.str());
        std::size_t count = 0;
        for (auto at = out.str().find(line); at != std::string::npos; at = out.str().find(line, at + 1)) ++count;
        CHECK(count == (verbosity == Verbosity::Quiet ? 0u : 1u));
        CHECK(err.str().empty());
    }
    CHECK(has_news(files));
    RunInfo run;
    auto json = run_report_json(run, {work});
    CHECK(json["accounts"][0]["mailboxes"][0]["skipped"] == files.skipped);
    CHECK(json["accounts"][0]["totals"]["failed"] == 0);
}

// A body kept shorter than its RFC822.SIZE (sync/body_ends.hpp): one
// warning line per mailbox, on stdout, in the log and the JSON report; not an
// error, not under -q.
TEST_CASE("a mailbox's warnings are notes, never errors", "[report]") {
    sync::AccountReport work;
    work.account = "work";
    sync::MailboxReport inbox;
    inbox.name = "INBOX";
    inbox.path = "QRESYNC";
    inbox.new_messages = 3;
    inbox.warnings = {"3 bodies were shorter than the server's RFC822.SIZE and kept as sent "
                      "(the server says it ends there)"};
    work.mailboxes = {inbox};
    const std::string line = "work: INBOX: warning: 3 bodies were shorter than the server's RFC822.SIZE and "
                             "kept as sent (the server says it ends there)\n";
    for (auto verbosity : {Verbosity::Normal, Verbosity::Verbose, Verbosity::Quiet}) {
        std::ostringstream out, err;
        print_summary(out, err, {work}, verbosity, false);
        INFO(out.str());
        std::size_t count = 0;
        for (auto at = out.str().find(line); at != std::string::npos; at = out.str().find(line, at + 1)) ++count;
        CHECK(count == (verbosity == Verbosity::Quiet ? 0u : 1u));
        CHECK(err.str().empty());
    }
    CHECK(has_news(inbox));
    CHECK_FALSE(inbox.failed());
    RunInfo run;
    auto json = run_report_json(run, {work});
    const auto& m = json["accounts"][0]["mailboxes"][0];
    REQUIRE(m["warnings"].is_array());
    CHECK(m["warnings"][0] == inbox.warnings[0]);
    CHECK(m["errors"].empty());
    CHECK(json["accounts"][0]["totals"]["failed"] == 0);
    CHECK(run_report_json(run, sample_reports())["accounts"][0]["mailboxes"][0]["warnings"].empty());
}

// Issue 11: "1 flag changes", "1 problems".
TEST_CASE("counts read in the singular for one", "[report]") {
    struct Case {
        std::uint64_t n;
        const char* one;
        const char* many;
        const char* text;
    };
    const Case cases[] = {{0, "mailbox", "mailboxes", "0 mailboxes"},
                          {1, "mailbox", "mailboxes", "1 mailbox"},
                          {2, "mailbox", "mailboxes", "2 mailboxes"},
                          {1, "flag change", "flag changes", "1 flag change"},
                          {1, "problem", "problems", "1 problem"}};
    for (const auto& c : cases) CHECK(count_of(c.n, c.one, c.many) == c.text);

    sync::AccountReport one;
    one.account = "solo";
    sync::MailboxReport m;
    m.name = "INBOX";
    m.path = "QRESYNC";
    m.new_messages = 1;
    m.flag_changes = 1;
    m.expunged = 1;
    one.mailboxes.push_back(m);
    std::ostringstream out, err;
    print_summary(out, err, {one}, Verbosity::Verbose, false);
    CHECK(out.str() == "solo: INBOX: QRESYNC, 1 new (0 B), 1 flag change, 1 expunged, 0.0 s\n"
                       "solo: 1 mailbox, 1 new (0 B), 1 flag change, 1 expunged\n");
}

TEST_CASE("byte and time formatting", "[report]") {
    struct Case {
        std::uint64_t bytes;
        const char* text;
    };
    const Case cases[] = {{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KB"}, {1536, "1.5 KB"},
                          {10 * 1024 * 1024, "10.0 MB"}, {3ull << 30, "3.0 GB"}};
    for (const auto& c : cases) CHECK(human_bytes(c.bytes) == c.text);
    CHECK(iso8601_utc(0) == "1970-01-01T00:00:00Z");
    CHECK(iso8601_utc(951782400) == "2000-02-29T00:00:00Z");
}

TEST_CASE("reports are valid UTF-8 whatever bytes the server sent", "[cli][report]") {
    auto reports = sample_reports();
    // Quirk(Cyrus 3.6): raw pointer bytes where a MAILBOXID belongs, echoed
    // into an error; and an 8-bit mailbox name the server never encoded.
    reports[0].mailboxes[1].errors.push_back("unexpected response: MAILBOXID (\xc4\xf8^\x89kU)");
    reports[0].mailboxes[0].name = "Entw\xfcrfe";
    RunInfo run;
    auto json = run_report_json(run, reports);
    CHECK_THROWS(json.dump());  // what the run record used before
    for (int indent : {-1, 2}) {
        std::string text;
        REQUIRE_NOTHROW(text = json_text(json, indent));
        CHECK(text.find("Entw\xef\xbf\xbdrfe") != std::string::npos);
        CHECK(text.find("\xc4") == std::string::npos);
        CHECK(nlohmann::json::parse(text)["accounts"][0]["mailboxes"][0]["name"] == "Entw\xef\xbf\xbdrfe");
    }
}

TEST_CASE("the human summary prints server text as valid UTF-8 without control characters", "[cli][report]") {
    auto reports = sample_reports();
    reports[0].mailboxes[0].name = "Entw\xfcrfe";
    reports[0].mailboxes[1].errors = {"server said: NO \x1b[2Jfake\r\nwork: INBOX: all fine \xc4\xf8"};
    std::ostringstream out, err;
    print_summary(out, err, reports, Verbosity::Verbose, false);
    CHECK(out.str().find("Entw\xef\xbf\xbdrfe") != std::string::npos);
    for (const std::string& text : {out.str(), err.str()}) {
        INFO(text);
        CHECK(text.find('\x1b') == std::string::npos);
        CHECK(text.find('\r') == std::string::npos);
        CHECK(text.find("\xfc") == std::string::npos);
        CHECK(text.find("\xc4") == std::string::npos);
    }
    // The forged line stays inside the real one.
    CHECK(err.str().find("\\x0D\\x0Awork: INBOX: all fine") != std::string::npos);
}

// Gmail --mailbox INBOX syncs All Mail for INBOX's messages only: the report
// says so, in the summary line and in the JSON.
TEST_CASE("a Gmail All Mail synced for labels only says which", "[report][gmail]") {
    sync::AccountReport account;
    account.account = "g";
    sync::MailboxReport all;
    all.name = "[Gmail]/All Mail";
    all.path = "CONDSTORE";
    all.new_messages = 2;
    all.labels = {"INBOX", "Work"};
    account.mailboxes.push_back(all);
    CHECK(mailbox_summary(all) ==
          "CONDSTORE, 2 new (0 B), 0 flag changes, 0 expunged, 0.0 s, only the messages labelled INBOX, Work");
    auto json = run_report_json(RunInfo{}, {account}, ReportDetail::Every);
    CHECK(json["accounts"][0]["mailboxes"][0]["labels"] == nlohmann::json::array({"INBOX", "Work"}));
    all.labels.clear();
    CHECK(mailbox_summary(all).find("labelled") == std::string::npos);
}

// Gmail, a store from before Gmail support: the messages All Mail took over
// from the old label folders are said apart from the new (downloaded) ones,
// by a dry run as by the run.
TEST_CASE("a Gmail All Mail that adopted stored copies says how many, apart from the new", "[report][gmail]") {
    sync::AccountReport account;
    account.account = "g";
    sync::MailboxReport all;
    all.name = "[Gmail]/All Mail";
    all.path = "CONDSTORE";
    all.new_messages = 2;
    all.adopted = 3;
    account.mailboxes.push_back(all);
    CHECK(mailbox_summary(all) == "CONDSTORE, 2 new (0 B), 0 flag changes, 0 expunged, 0.0 s, 3 already stored "
                                  "(label folders), not downloaded");
    CHECK(account_summary(account).find(", 3 already stored (label folders), not downloaded") != std::string::npos);
    auto json = run_report_json(RunInfo{}, {account}, ReportDetail::Every);
    CHECK(json["accounts"][0]["mailboxes"][0]["adopted"] == 3);
    CHECK(json["accounts"][0]["totals"]["adopted"] == 3);
    all.adopted = 0;
    CHECK(mailbox_summary(all).find("already stored") == std::string::npos);
}
