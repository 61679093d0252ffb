#include "cli/exit_codes.hpp"

#include <catch2/catch.hpp>

using namespace imapkeep;
using namespace imapkeep::cli;
using Kind = imap::ConnectError::Kind;

namespace {

sync::AccountReport ok_account(const std::string& name) {
    sync::AccountReport a;
    a.account = name;
    sync::MailboxReport m;
    m.name = "INBOX";
    m.path = "QRESYNC";
    a.mailboxes.push_back(m);
    return a;
}

sync::AccountReport failed_mailbox(const std::string& name) {
    auto a = ok_account(name);
    sync::MailboxReport m;
    m.name = "Broken";
    m.errors.push_back("UID FETCH failed: NO [SERVERBUG]");
    a.mailboxes.push_back(m);
    return a;
}

sync::AccountReport connect_failure(const std::string& name, Kind kind, bool transient) {
    sync::AccountReport a;
    a.account = name;
    a.connect_failed = true;
    a.error_kind = kind;
    a.transient = transient;
    a.error = "cannot connect";
    return a;
}

sync::AccountReport lost_account(const std::string& name, bool transient) {
    auto a = ok_account(name);
    a.error = "connection dropped during LIST";
    a.transient = transient;
    return a;
}

// Issue 11: "--mailbox 'Nonexistent*' matches nothing and exits 0 silently".
sync::AccountReport unmatched(const std::string& name, const std::string& pattern) {
    auto a = ok_account(name);
    a.unmatched_patterns.push_back(pattern);
    return a;
}

// Issue 12: the daily budget left messages for the next run.
sync::AccountReport budget_stopped(const std::string& name) {
    auto a = ok_account(name);
    a.mailboxes.front().deferred = 5;
    a.budget_reached = true;
    a.budget_reason = "daily_download_mb";
    return a;
}

}  // namespace

TEST_CASE("exit codes from run reports", "[exit]") {
    struct Case {
        const char* what;
        std::vector<sync::AccountReport> reports;
        int code;
    };
    const Case cases[] = {
        {"nothing to do", {}, 0},
        {"all good", {ok_account("a"), ok_account("b")}, 0},
        {"one mailbox failed", {ok_account("a"), failed_mailbox("b")}, 1},
        {"account lost after connecting", {lost_account("a", false)}, 1},
        {"a --mailbox pattern matched nothing", {unmatched("a", "Nonexistent*")}, 1},
        // Retries are done by then (retry.hpp): what is left is reported, not
        // deferred to cron with 75.
        {"account lost, transient", {lost_account("a", true)}, 1},
        {"bad password", {connect_failure("a", Kind::Auth, false)}, 3},
        {"TLS failure", {connect_failure("a", Kind::Tls, false)}, 3},
        {"host key refused", {connect_failure("a", Kind::HostKey, false)}, 3},
        {"network down: never connected", {connect_failure("a", Kind::Network, true)}, 3},
        {"auth beats mailbox failure", {failed_mailbox("a"), connect_failure("b", Kind::Auth, false)}, 3},
        {"auth beats transient", {connect_failure("a", Kind::Network, true), connect_failure("b", Kind::Auth, false)}, 3},
        {"no connection beats mailbox failure", {failed_mailbox("a"), connect_failure("b", Kind::Network, true)}, 3},
        {"lost connection and failed mailbox", {lost_account("a", true), failed_mailbox("b")}, 1},
        // Never 0 while messages wait for the next run.
        {"the daily budget left messages", {ok_account("a"), budget_stopped("b")}, 75},
        {"budget beats a failed mailbox", {failed_mailbox("a"), budget_stopped("b")}, 75},
        {"no connection beats the budget", {budget_stopped("a"), connect_failure("b", Kind::Network, true)}, 3},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        CHECK(exit_code_for(c.reports) == c.code);
    }
}

TEST_CASE("restore exit codes: 3 without a connection, 1 when it failed partway", "[exit]") {
    auto restore = [](bool connect_failed, bool transient, std::string error, bool mailbox_fails) {
        archive::RestoreReport r;
        r.connect_failed = connect_failed;
        r.transient = transient;
        r.error = std::move(error);
        archive::RestoreMailboxReport m;
        m.source = "INBOX";
        if (mailbox_fails) m.failures.push_back({1, 7, "server said NO"});
        r.mailboxes.push_back(m);
        return r;
    };
    struct Case {
        const char* what;
        archive::RestoreReport report;
        int code;
    };
    const Case cases[] = {
        {"all appended", restore(false, false, "", false), 0},
        {"one message refused", restore(false, false, "", true), 1},
        {"connection lost partway, retries done", restore(false, true, "connection lost: EOF", false), 1},
        {"network down from the start", restore(true, true, "connection refused", false), 3},
        {"bad password", restore(true, false, "authentication failed", false), 3},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        CHECK(exit_code_for(c.report) == c.code);
    }
}

TEST_CASE("restore exit codes: 75 when the daily upload budget left messages, never 0",
          "[exit][budget]") {
    archive::RestoreReport r;
    archive::RestoreMailboxReport m;
    m.source = "INBOX";
    m.appended = 3;
    m.left = 2;
    r.mailboxes.push_back(m);
    r.budget_reached = true;
    CHECK(exit_code_for(r) == 75);
    // A refused message as well: still 75 (not done; the next run goes on), as a backup's.
    r.mailboxes[0].failures.push_back({1, 7, "server said NO"});
    CHECK(exit_code_for(r) == 75);
    // Never reached: 3 outranks it.
    r.connect_failed = true;
    CHECK(exit_code_for(r) == 3);
}

TEST_CASE("run status and worse_exit_code agree with the ranking", "[exit]") {
    CHECK(run_status_for(0) == "ok");
    CHECK(run_status_for(1) == "partial");
    CHECK(run_status_for(3) == "failed");
    CHECK(run_status_for(75) == "failed");
    struct Case {
        int a, b, worse;
    };
    const Case cases[] = {{0, 1, 1}, {1, 75, 75}, {75, 3, 3}, {3, 1, 3}, {0, 0, 0}, {2, 3, 2}};
    for (const auto& c : cases) {
        INFO(c.a << " vs " << c.b);
        CHECK(worse_exit_code(c.a, c.b) == c.worse);
        CHECK(worse_exit_code(c.b, c.a) == c.worse);
    }
}
