#include "cli/retry.hpp"

#include <catch2/catch.hpp>
#include <sstream>

using namespace imapkeep;
using namespace imapkeep::cli;
using Kind = imap::ConnectError::Kind;
using std::chrono::milliseconds;

namespace {

sync::MailboxReport mailbox(const std::string& name, std::string error = "",
                            bool connection_lost = false) {
    sync::MailboxReport m;
    m.name = name;
    m.path = "QRESYNC";
    if (!error.empty()) m.errors.push_back(error);
    m.connection_lost = connection_lost;
    return m;
}

sync::AccountReport account(std::vector<sync::MailboxReport> mailboxes) {
    sync::AccountReport a;
    a.account = "work";
    a.mailboxes = std::move(mailboxes);
    return a;
}

sync::AccountReport connect_failure(Kind kind, bool transient, const std::string& error) {
    sync::AccountReport a;
    a.account = "work";
    a.connect_failed = true;
    a.error_kind = kind;
    a.transient = transient;
    a.error = error;
    return a;
}

}  // namespace

TEST_CASE("which backup outcomes are retried", "[retry]") {
    struct Case {
        const char* what;
        sync::AccountReport report;
        std::optional<std::string> cause;
    };
    auto lost_after_connect = account({});
    lost_after_connect.error = "socket error: EOF";
    lost_after_connect.transient = true;
    const Case cases[] = {
        {"all good", account({mailbox("INBOX")}), std::nullopt},
        {"connection refused",
         connect_failure(Kind::Network, true, "127.0.0.1:143: connection refused"),
         "127.0.0.1:143: connection refused"},
        {"read timeout at the greeting", connect_failure(Kind::Network, true, "read timed out"),
         "read timed out"},
        {"bad password", connect_failure(Kind::Auth, false, "authentication failed"), std::nullopt},
        {"certificate refused", connect_failure(Kind::Tls, false, "certificate verify failed"),
         std::nullopt},
        {"host key refused", connect_failure(Kind::HostKey, false, "unknown host key"),
         std::nullopt},
        {"garbage greeting", connect_failure(Kind::Protocol, false, "not an IMAP greeting"),
         std::nullopt},
        {"LIST cut off", lost_after_connect, "socket error: EOF"},
        {"a mailbox lost its connection",
         account({mailbox("INBOX"), mailbox("Sent", "socket error: EOF", true)}),
         "Sent: socket error: EOF"},
        {"a mailbox the server refused",
         account({mailbox("INBOX", "UID FETCH failed: NO [SERVERBUG]")}), std::nullopt},
        {"a refused and a lost mailbox",
         account({mailbox("A", "NO"), mailbox("B", "socket error: timed out", true)}),
         "B: socket error: timed out"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        CHECK(retry_cause(c.report) == c.cause);
    }
}

TEST_CASE("which restore outcomes are retried", "[retry]") {
    struct Case {
        const char* what;
        bool connect_failed, transient;
        const char* error;
        bool retried;
    };
    const Case cases[] = {
        {"all good", false, false, "", false},
        {"connection lost during APPEND", false, true, "connection lost: socket error: EOF", true},
        {"connection refused", true, true, "connection refused", true},
        {"bad password", true, false, "authentication failed", false},
        {"no backup of that account", false, false, "account x has no backup in this store", false},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        archive::RestoreReport r;
        r.connect_failed = c.connect_failed;
        r.transient = c.transient;
        r.error = c.error;
        CHECK(retry_cause(r).has_value() == c.retried);
    }
}

TEST_CASE("retry delays double from retry_delay and are capped", "[retry]") {
    struct Case {
        double delay;
        int retry;
        milliseconds expected;
    };
    const Case cases[] = {
        {5, 1, milliseconds(5000)},    {5, 2, milliseconds(10000)},    {5, 3, milliseconds(20000)},
        {0.05, 1, milliseconds(50)},   {0.05, 4, milliseconds(400)},   {0, 3, milliseconds(0)},
        {5, 20, milliseconds(600000)}, {600, 1, milliseconds(600000)},
    };
    for (const auto& c : cases) {
        INFO(c.delay << " s, retry " << c.retry);
        CHECK(retry_delay(RetryPolicy{3, c.delay}, c.retry) == c.expected);
    }
}

TEST_CASE("run_with_retries stops on success, on a lasting failure, and after the last retry",
          "[retry]") {
    struct Case {
        const char* what;
        int retries;
        std::vector<std::optional<std::string>> outcomes;  // what attempt n returns
        int attempts;
        bool gave_up;
        std::vector<milliseconds> slept;
        std::string log;
    };
    const std::optional<std::string> ok, lost = "socket error: EOF";
    const Case cases[] = {
        {"first attempt succeeds", 3, {ok}, 1, false, {}, ""},
        {"second attempt succeeds",
         3,
         {lost, ok},
         2,
         false,
         {milliseconds(100)},
         "imapkeep: backup work: attempt 1 of 4 failed (socket error: EOF); trying again in 0.1 "
         "s\n"},
        {"retries run out",
         2,
         {lost, lost, lost},
         3,
         true,
         {milliseconds(100), milliseconds(200)},
         "imapkeep: backup work: attempt 1 of 3 failed (socket error: EOF); trying again in 0.1 s\n"
         "imapkeep: backup work: attempt 2 of 3 failed (socket error: EOF); trying again in 0.2 "
         "s\n"},
        {"retries = 0: one attempt", 0, {lost}, 1, true, {}, ""},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        std::ostringstream log;
        std::vector<milliseconds> slept;
        int calls = 0;
        auto outcome = run_with_retries(
            RetryPolicy{c.retries, 0.1}, "backup work",
            [&](int attempt) {
                CHECK(attempt == ++calls);
                return c.outcomes.at(static_cast<std::size_t>(attempt - 1));
            },
            &log, [&](milliseconds d) { slept.push_back(d); });
        CHECK(outcome.attempts == c.attempts);
        CHECK(outcome.gave_up.has_value() == c.gave_up);
        CHECK(slept == c.slept);
        CHECK(log.str() == c.log);
    }
}

TEST_CASE("a later attempt's report counts what earlier attempts did", "[retry]") {
    auto first = account({mailbox("INBOX", "socket error: EOF", true), mailbox("Old")});
    first.mailboxes[0].new_messages = 40;
    first.mailboxes[0].bytes = 4000;
    first.mailboxes[1].deleted = true;
    first.mailboxes[1].path = "deleted";
    auto second = connect_failure(Kind::Network, true, "connection refused");
    auto third = account({mailbox("INBOX")});
    third.mailboxes[0].new_messages = 60;
    third.mailboxes[0].bytes = 6000;

    merge_earlier_attempt(second, first);
    CHECK_FALSE(second.connect_failed);  // it did connect, in the first attempt
    REQUIRE(second.mailboxes.size() == 2);
    CHECK(second.mailboxes[0].failed());  // not reached again: still failed
    merge_earlier_attempt(third, second);
    REQUIRE(third.mailboxes.size() == 2);
    CHECK(third.mailboxes[0].new_messages == 100);
    CHECK(third.mailboxes[0].bytes == 10000);
    CHECK_FALSE(third.mailboxes[0].failed());  // the last attempt got it
    CHECK(third.mailboxes[1].deleted);

    archive::RestoreReport r1, r2;
    archive::RestoreMailboxReport m;
    m.source = "INBOX";
    m.create = true;
    m.to_append = 10;
    m.appended = 4;
    r1.mailboxes.push_back(m);
    m.create = false;
    m.to_append = 6;
    m.appended = 6;
    m.already = 4;
    r2.mailboxes.push_back(m);
    merge_earlier_attempt(r2, r1);
    CHECK(r2.mailboxes[0].appended == 10);
    CHECK(r2.mailboxes[0].to_append == 10);
    CHECK(r2.mailboxes[0].already == 0);
    CHECK(r2.mailboxes[0].create);
}
