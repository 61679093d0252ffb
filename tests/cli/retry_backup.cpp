// backup_with_retries (cli/retry.hpp), the account loop `backup` and
// `worker` share: a failure a retry can fix runs the account again, what the
// engine throws becomes the account's failure, and a stop ends the wait.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>
#include <stdexcept>

#include "cli/retry.hpp"

using namespace imapkeep;
using namespace imapkeep::cli;
using namespace std::chrono_literals;

namespace {

sync::AccountReport lost_connection() {
    sync::AccountReport a;
    a.account = "work";
    sync::MailboxReport m;
    m.name = "INBOX";
    m.new_messages = 3;
    m.errors.push_back("socket error: EOF");
    m.connection_lost = true;
    a.mailboxes.push_back(m);
    return a;
}

sync::AccountReport done() {
    sync::AccountReport a;
    a.account = "work";
    sync::MailboxReport m;
    m.name = "INBOX";
    m.new_messages = 2;
    a.mailboxes.push_back(m);
    return a;
}

}  // namespace

TEST_CASE("backup_with_retries runs the account again and counts every attempt's work", "[retry]") {
    int calls = 0;
    std::ostringstream log;
    auto run = backup_with_retries(
        "work", [&] { return ++calls == 1 ? lost_connection() : done(); }, RetryPolicy{3, 0.01},
        nullptr, &log);
    CHECK(calls == 2);
    CHECK(run.outcome.attempts == 2);
    CHECK_FALSE(run.outcome.gave_up);
    REQUIRE(run.report.mailboxes.size() == 1);
    CHECK(run.report.mailboxes[0].new_messages == 5);
    CHECK(run.report.mailboxes[0].errors.empty());
    CHECK_THAT(log.str(), Catch::Contains("backup work: attempt 1 of 4 failed"));
}

TEST_CASE("backup_with_retries makes what the engine throws the account's failure", "[retry]") {
    auto run = backup_with_retries(
        "work", []() -> sync::AccountReport { throw std::runtime_error("disk full"); },
        RetryPolicy{3, 0.01}, nullptr, nullptr);
    CHECK(run.outcome.attempts == 1);  // not a failure a retry fixes
    CHECK(run.report.account == "work");
    CHECK_THAT(run.report.error, Catch::Contains("disk full"));
}

TEST_CASE("a stop ends backup_with_retries before an attempt and during the wait", "[retry]") {
    std::atomic<bool> stop{true};
    int calls = 0;
    auto count = [&] {
        ++calls;
        return lost_connection();
    };
    CHECK_THROWS_AS(backup_with_retries("work", count, RetryPolicy{3, 0.01}, &stop, nullptr),
                    sync::StopRequested);
    CHECK(calls == 0);

    stop = false;
    auto raise = [&] {
        ++calls;
        stop = true;  // as a signal during the attempt
        return lost_connection();
    };
    const auto started = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(backup_with_retries("work", raise, RetryPolicy{3, 60}, &stop, nullptr),
                    sync::StopRequested);
    CHECK(calls == 1);
    CHECK(std::chrono::steady_clock::now() - started < 5s);  // not the 60 s wait
}
