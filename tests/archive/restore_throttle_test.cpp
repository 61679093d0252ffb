// Issue 12 "Throttling and pacing", restore side: an APPEND the target
// refuses with a throttling response, or a BYE that asks to wait, gets the
// wait the server asks for (the backup's Pacer rule) and the same message
// again, never a failed message; nothing lands twice. A full quota stops the
// restore, as does a daily limit or a target still throttling after the
// configured waits: a budget stop (exit 75), resumed by the next run. Waits
// run on a fake clock.
#include <catch2/catch.hpp>
#include <imapkeep/archive/restore.hpp>
#include <set>

#include "support/fake_pace_clock.hpp"
#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

constexpr int kMessages = 6;

struct RestoreThrottleFixture : ModelFixture {
    ModelServer target;
    sync::AccountConfig dst;
    FakePaceClock clock;
    ModelMailbox* inbox = nullptr;

    RestoreThrottleFixture() {
        server.add_mailbox("INBOX");
        for (int i = 1; i <= kMessages; ++i)
            server.append("INBOX", message("t" + std::to_string(i)));
        account.connections = 1;
        auto b = backup();
        REQUIRE(report_ok(b));
        inbox = &target.add_mailbox("INBOX");
        dst.name = "dst";
        dst.connect = target.connect_options();
        dst.connections = 1;
    }

    // The target answers the APPENDs numbered in `refused` (1-based, counting
    // every APPEND sent) with reply(tag) instead of appending; with `landed`
    // the message is appended all the same (a BYE after the work was done).
    void refuse(std::set<int> refused, std::function<std::string(const std::string&)> reply,
                bool drop, bool landed = false) {
        target.on_command = [this, refused, landed](const ModelCommand& c) {
            if (c.name != "APPEND") return;
            const bool now = refused.count(++appends) > 0;
            refusing = now && !landed;
            if (refusing) inbox->append_limit = 0;  // the model appends nothing
            throttled += now;
        };
        target.on_reply = [this, refused, reply, drop](const ModelCommand& c, std::string& out,
                                                       bool& d) {
            if (c.name != "APPEND" || !refused.count(appends)) return;
            inbox->append_limit.reset();
            refusing = false;
            out = reply(c.tag);
            d = drop;
        };
    }

    archive::RestoreReport restore() {
        archive::RestoreOptions o;
        o.source_account = account.name;
        o.settle_quiet = std::chrono::milliseconds(10);
        o.clock = &clock;
        return archive::restore_account(dst, *store.catalog, *store.messages, o);
    }

    std::multiset<std::string> target_bodies() {
        std::multiset<std::string> out;
        for (const auto& [uid, m] : target.mailbox("INBOX").messages) out.insert(m.body);
        return out;
    }
    std::multiset<std::string> source_bodies() {
        std::multiset<std::string> out;
        for (const auto& [uid, body] : on_server("INBOX")) out.insert(body);
        return out;
    }

    int appends = 0;
    int throttled = 0;
    bool refusing = false;
};

std::string errors_of(const archive::RestoreReport& r) {
    std::string out = r.error + "\n";
    for (const auto& m : r.mailboxes) {
        out += m.source + ": " + m.error + "\n";
        for (const auto& f : m.failures)
            out += "  uid " + std::to_string(f.uid) + ": " + f.reason + "\n";
    }
    for (const auto& n : r.notes) out += "note: " + n + "\n";
    return out;
}

struct Throttle {
    const char* name;
    std::string (*reply)(const std::string& tag);
    bool drop;
    long long wait_ms;  // the wait each must get; 0 = a back-off of its own
};

const Throttle kThrottles[] = {
    {"O365 Suggested Backoff Time",
     [](const std::string& tag) {
         return tag + " NO Request is throttled. Suggested Backoff Time: 5000 milliseconds\r\n";
     },
     false, 5000},
    {"RFC 5530 [UNAVAILABLE]",
     [](const std::string& tag) { return tag + " NO [UNAVAILABLE] Try later\r\n"; }, false, 0},
    {"RFC 5530 [INUSE]",
     [](const std::string& tag) { return tag + " NO [INUSE] Mailbox in use\r\n"; }, false, 0},
    {"RFC 5530 [LIMIT]",
     [](const std::string& tag) { return tag + " NO [LIMIT] Too many commands\r\n"; }, false, 0},
    {"Gmail [THROTTLED]",
     [](const std::string& tag) {
         return tag + " NO [THROTTLED] Account exceeded rate limits\r\n";
     },
     false, 0},
    {"BYE with a Suggested Backoff Time",
     [](const std::string&) {
         return std::string(
             "* BYE Request is throttled. Suggested Backoff Time: 3000 milliseconds\r\n");
     },
     true, 3000},
};

}  // namespace

TEST_CASE("restore: a throttled APPEND waits as asked and is sent again, every message lands once",
          "[archive][restore][throttle]") {
    for (const auto& t : kThrottles) {
        DYNAMIC_SECTION(t.name) {
            RestoreThrottleFixture f;
            // The first APPEND, twice in a row, and one in the middle.
            f.refuse({1, 2, 5}, t.reply, t.drop);
            auto report = f.restore();
            INFO(errors_of(report));
            CHECK(report.error.empty());
            CHECK_FALSE(report.failed());
            CHECK(f.throttled == 3);
            CHECK(report.throttle_waits == 3);
            const auto sleeps = f.clock.sleeps();
            REQUIRE(sleeps.size() == 3);
            for (auto s : sleeps) {
                if (t.wait_ms)
                    CHECK(s.count() == t.wait_ms);
                else
                    CHECK(s.count() >= 1000);
            }
            CHECK(report.notes.size() == 3);
            CHECK(f.target_bodies() == f.source_bodies());
        }
    }
}

TEST_CASE("restore: a BYE after an APPEND that landed sends nothing twice",
          "[archive][restore][throttle]") {
    RestoreThrottleFixture f;
    f.refuse(
        {3},
        [](const std::string&) {
            return std::string(
                "* BYE Request is throttled. Suggested Backoff Time: 2000 milliseconds\r\n");
        },
        true, /*landed=*/true);
    auto report = f.restore();
    INFO(errors_of(report));
    CHECK(report.error.empty());
    CHECK_FALSE(report.failed());
    CHECK(f.target_bodies() == f.source_bodies());
    CHECK(f.target.mailbox("INBOX").messages.size() == static_cast<std::size_t>(kMessages));
}

// Issue 12: a target that says "no more today" (its daily limit, a full
// quota) or keeps throttling after the configured waits stops the restore
// like the daily upload budget does: no message fails, the rest is counted
// as left (the CLI exits 75), and the next run sends exactly what is left.
struct TargetStop {
    const char* name;
    std::string (*reply)(const std::string& tag);
    bool drop;
    archive::RestoreReport::LeftFor left_for;
    std::size_t landed;   // messages on the target after the first run
    std::uint64_t waits;  // throttle waits in the first run
};

const TargetStop kTargetStops[] = {
    {"Gmail's daily limit",
     [](const std::string& tag) {
         return tag + " NO Account exceeded command or bandwidth limits. (Failure)\r\n";
     },
     false, archive::RestoreReport::LeftFor::TargetDailyLimit, 2, 0},
    {"RFC 5530 [OVERQUOTA], a full mailbox",
     [](const std::string& tag) { return tag + " NO [OVERQUOTA] Mailbox is full\r\n"; }, false,
     archive::RestoreReport::LeftFor::TargetFull, 2, 0},
    {"a BYE for Gmail's daily limit",
     [](const std::string&) {
         return std::string("* BYE Account exceeded command or bandwidth limits. (Failure)\r\n");
     },
     true, archive::RestoreReport::LeftFor::TargetDailyLimit, 2, 0},
    {"RFC 5530 [LIMIT] after every wait",
     [](const std::string& tag) { return tag + " NO [LIMIT] Too many commands\r\n"; }, false,
     archive::RestoreReport::LeftFor::TargetThrottling, 2, 2},
    {"O365 Suggested Backoff Time after every wait",
     [](const std::string& tag) {
         return tag + " NO Request is throttled. Suggested Backoff Time: 5000 milliseconds\r\n";
     },
     false, archive::RestoreReport::LeftFor::TargetThrottling, 2, 2},
    {"a BYE with a reason after every wait",
     [](const std::string&) {
         return std::string("* BYE [UNAVAILABLE] Server busy, try later\r\n");
     },
     true, archive::RestoreReport::LeftFor::TargetThrottling, 2, 2},
};

TEST_CASE(
    "restore: a target's daily limit, full quota or endless throttling stops the restore as "
    "a budget stop, and the next run resumes without duplicates",
    "[archive][restore][throttle][budget]") {
    for (const auto& t : kTargetStops) {
        DYNAMIC_SECTION(t.name) {
            RestoreThrottleFixture f;
            f.dst.pacing.throttle_retries = 2;
            // One at a time, so "what landed" does not depend on pipelining.
            auto caps = f.target.capabilities();
            caps.erase("LITERAL+");
            f.target.set_capabilities(caps);
            std::set<int> from_third;
            for (int i = 3; i <= 100; ++i) from_third.insert(i);
            f.refuse(from_third, t.reply, t.drop);
            auto first = f.restore();
            INFO(errors_of(first));
            CHECK(first.error.empty());
            CHECK_FALSE(first.failed());
            CHECK(first.budget_reached);
            CHECK(first.left_for == t.left_for);
            CHECK_FALSE(first.budget_reason.empty());
            CHECK(first.throttle_waits == t.waits);
            CHECK(f.target.mailbox("INBOX").messages.size() == t.landed);
            CHECK(first.messages_left() == kMessages - t.landed);
            // Nothing more is sent once the target said so: the refused
            // message and its retries only.
            CHECK(f.appends == static_cast<int>(t.landed + 1 + t.waits));

            f.target.on_command = nullptr;
            f.target.on_reply = nullptr;
            auto second = f.restore();
            INFO(errors_of(second));
            CHECK_FALSE(second.failed());
            CHECK_FALSE(second.budget_reached);
            CHECK(second.messages_left() == 0);
            CHECK(f.target_bodies() == f.source_bodies());
            CHECK(f.target.mailbox("INBOX").messages.size() == static_cast<std::size_t>(kMessages));
        }
    }
}

TEST_CASE(
    "restore: pipelined APPENDs behind the one refused for a full quota are awaited and "
    "journaled, not sent again",
    "[archive][restore][throttle][budget]") {
    RestoreThrottleFixture f;
    f.refuse(
        {3}, [](const std::string& tag) { return tag + " NO [OVERQUOTA] Mailbox is full\r\n"; },
        false);
    auto report = f.restore();
    INFO(errors_of(report));
    CHECK_FALSE(report.failed());
    CHECK(report.budget_reached);
    CHECK(report.left_for == archive::RestoreReport::LeftFor::TargetFull);
    CHECK(report.budget_reason.find("OVERQUOTA") != std::string::npos);
    CHECK(report.throttle_waits == 0);
    CHECK(f.clock.sleeps().empty());
    // Those pipelined behind it landed and are journaled; the refused one is
    // left, not sent again in this run.
    CHECK(f.appends == kMessages);
    CHECK(f.target.mailbox("INBOX").messages.size() == static_cast<std::size_t>(kMessages - 1));
    CHECK(report.messages_left() == 1);
    f.target.on_command = nullptr;
    f.target.on_reply = nullptr;
    auto second = f.restore();
    INFO(errors_of(second));
    CHECK_FALSE(second.failed());
    CHECK(f.appends == kMessages);  // on_command gone: counts nothing more
    CHECK(f.target_bodies() == f.source_bodies());
}

TEST_CASE("restore: a target that refuses the login for its daily limit stops as a budget stop",
          "[archive][restore][throttle][budget]") {
    RestoreThrottleFixture f;
    f.target.on_reply = [](const ModelCommand& c, std::string& out, bool&) {
        if (c.name == "LOGIN")
            out = c.tag + " NO Account exceeded command or bandwidth limits. (Failure)\r\n";
    };
    auto report = f.restore();
    INFO(errors_of(report));
    CHECK_FALSE(report.failed());
    CHECK_FALSE(report.connect_failed);
    CHECK(report.budget_reached);
    CHECK(report.left_uncounted);
    CHECK(report.left_for == archive::RestoreReport::LeftFor::TargetDailyLimit);
    CHECK(f.target.mailbox("INBOX").messages.empty());
}
