// Issue 10: the connection that listed is open already, so it takes the
// mailbox with the most work while the other workers still connect; the rest
// follow, the most work first. More connections open only for work that
// outlasts their start.
#include "sync/work_order.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
using imapkeep::sync::MailboxWork;
using imapkeep::sync::most_work_first;
using imapkeep::sync::plan_connections;

TEST_CASE("most_work_first weighs new mail above known mail and keeps ties in order",
          "[sync][order]") {
    // The same estimate plan_connections counts with; the path that lists
    // every known message unless a case says QRESYNC.
    struct Case {
        const char* what;
        std::vector<MailboxWork> work;
        std::vector<std::size_t> order;
        bool lists_known = true;
    } cases[] = {
        {"nothing", {}, {}},
        {"cold: the largest first", {{10, 10}, {500, 500}, {40, 40}}, {1, 2, 0}},
        {"new mail outweighs a larger known mailbox", {{0, 2000}, {50, 60}}, {1, 0}},
        {"a huge mailbox outweighs a little new mail (plain path listing)",
         {{1, 10}, {0, 100000}},
         {1, 0}},
        {"QRESYNC lists no known message: the changes count", {{0, 100000}, {0, 10, 50}}, {1, 0},
         false},
        {"no status: listed order", {{}, {}, {}}, {0, 1, 2}},
        {"ties keep the listed order", {{3, 9}, {5, 5}, {3, 9}}, {1, 0, 2}},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        CHECK(most_work_first(c.work, c.lists_known) == c.order);
    }
}

TEST_CASE("the connection that listed syncs the mailbox with the most work", "[sync][order]") {
    for (bool cold : {true, false}) {
        INFO((cold ? "cold" : "incremental"));
        ModelFixture f;
        f.account.connections = 3;
        // Listed after the others (the model lists by name).
        for (const char* name : {"INBOX", "Work", "Archive"}) {
            f.server.add_mailbox(name);
            f.server.append(name, message(std::string(name) + "-0"));
        }
        for (int i = 1; i < 30; ++i) f.server.append("Work", message("Work-" + std::to_string(i)));
        if (!cold) {
            REQUIRE(report_ok(f.backup()));
            for (int i = 0; i < 20; ++i)
                f.server.append("Work", message("Work-new-" + std::to_string(i)));
            f.server.append("INBOX", message("INBOX-new"));
            f.server.append("Archive", message("Archive-new"));
        }

        std::mutex mutex;
        std::optional<std::size_t> lister;
        std::map<std::string, std::size_t> opened_on;
        f.server.on_command = [&](const ModelCommand& c) {
            std::lock_guard lock(mutex);
            if (c.name == "LIST") lister = c.connection;
            if (c.name == "EXAMINE" || c.name == "SELECT") {
                for (const char* name : {"INBOX", "Work", "Archive"})
                    if (c.text.find(name) != std::string::npos)
                        opened_on.emplace(name, c.connection);
            }
        };
        auto report = f.backup();
        INFO(errors_of(report));
        REQUIRE(report_ok(report));
        REQUIRE(lister);
        REQUIRE(opened_on.count("Work"));
        CHECK(opened_on["Work"] == *lister);
        CHECK(f.stored("Work") == f.on_server("Work"));
    }
}

TEST_CASE("plan_connections opens one more at once for each two connections' cost of the rest",
          "[sync][order]") {
    // Default costs: a connection 50 ms; a mailbox 5 ms, a new message or a
    // change 0.3 ms, a listed known message 3 us. A second connection needs
    // 100 ms of work besides the largest mailbox's.
    const auto known = [](std::uint64_t n, std::uint64_t news = 0, std::uint64_t changes = 0) {
        return MailboxWork{news, n, changes, true};
    };
    struct Case {
        const char* what;
        std::vector<MailboxWork> work;
        bool lists_known;
        int at_most, connections;
    } cases[] = {
        {"no mailbox", {}, false, 4, 1},
        {"one mailbox, however large", {known(20000, 20000)}, false, 4, 1},
        {"1% changed: three mailboxes of 33 new and 45-170 changes",
         {known(10000, 34, 167), known(7000, 33, 89), known(3000, 33, 44)},
         false,
         4,
         1},
        {"cold: three mailboxes of thousands",
         {known(10000, 10000), known(7000, 7000), known(3000, 3000)},
         false,
         4,
         3},
        {"cold, but `connections` says 2", {known(10000, 10000), known(7000, 7000)}, false, 2, 2},
        {"the largest mailbox's work is the first connection's",
         {known(10000, 10000), known(10, 1), known(10, 1)},
         false,
         4,
         1},
        {"just under 100 ms besides the largest: 2 x (5 + 0.3 x 148)",
         {known(1000, 500), known(148, 148), known(148, 148)},
         false,
         4,
         1},
        {"at it: 2 x (5 + 0.3 x 150)",
         {known(1000, 500), known(150, 150), known(150, 150)},
         false,
         4,
         2},
        {"20 mailboxes with a change each: 19 x 5.3 ms",
         std::vector<MailboxWork>(20, known(50, 0, 1)), false, 4, 2},
        {"1,000 mailboxes with a change each", std::vector<MailboxWork>(1000, known(20, 0, 1)),
         false, 4, 4},
        {"the plain path lists the known messages: 2 x 5 + 2 x 20,000 x 3 us",
         {known(20000), known(20000), known(20000)},
         true,
         4,
         2},
        {"QRESYNC does not", {known(20000), known(20000), known(20000)}, false, 4, 1},
        {"a mailbox without a status: every connection, as many as mailboxes",
         {known(10, 1), MailboxWork{}, known(10, 1)},
         false,
         4,
         3},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        const auto plan = plan_connections(c.work, c.lists_known, c.at_most);
        CHECK(plan.at_once == c.connections);
        // The rest stand by, up to one per mailbox.
        CHECK(plan.at_once + plan.standby ==
              std::max(1, std::min<int>(c.at_most, static_cast<int>(c.work.size()))));
    }
    SECTION("a connection that costs nothing: every one allowed at once") {
        sync::WorkCosts free;
        free.connection = {};
        const auto plan = plan_connections({known(1), known(1), known(1)}, false, 4, free);
        CHECK(plan.at_once == 3);
        CHECK(plan.standby == 0);
    }
    SECTION("the standby waits twice the estimated work, at least twice a connection's start") {
        using std::chrono::milliseconds;
        // 1% changed: 65.3 + 41.6 + 28.1 ms.
        auto plan = plan_connections(
            {known(10000, 34, 167), known(7000, 33, 89), known(3000, 33, 44)}, false, 4);
        CHECK(plan.standby == 2);
        CHECK(plan.standby_after == std::chrono::microseconds(2 * (65'300 + 41'600 + 28'100)));
        plan = plan_connections({known(10, 0, 1), known(10, 0, 1)}, false, 4);
        CHECK(plan.standby == 1);
        CHECK(plan.standby_after == milliseconds(100));
    }
}

TEST_CASE("a run with little to do stays on the connection that listed", "[sync][order]") {
    for (bool list_status : {true, false}) {
        INFO((list_status ? "LIST-STATUS" : "no LIST-STATUS: no estimate, every connection"));
        ModelFixture f;
        f.account.connection_cost = sync::AccountConfig{}.connection_cost;
        f.account.connections = 3;
        if (!list_status) {
            auto caps = f.server.capabilities();
            caps.erase("LIST-STATUS");
            f.server.set_capabilities(caps);
        }
        // Cold: 400 messages a mailbox are worth 120 ms each.
        for (const char* name : {"INBOX", "Work", "Archive"}) {
            f.server.add_mailbox(name);
            for (int i = 0; i < 400; ++i)
                f.server.append(name, message(std::string(name) + "-" + std::to_string(i)));
        }
        auto before = f.server.connections_opened();
        auto report = f.backup();
        INFO(errors_of(report));
        REQUIRE(report_ok(report));
        CHECK(f.server.connections_opened() - before == 3);

        // 1% changed: a new message and a flag change in each. A connection
        // priced at 1 s keeps the standby (after 2 s) out of a slow machine's
        // way; the count at once is the same as at 50 ms.
        for (const char* name : {"INBOX", "Work", "Archive"}) {
            f.server.append(name, message(std::string(name) + "-new"));
            f.server.set_flags(name, 1, {"\\Flagged"});
        }
        f.account.connection_cost = std::chrono::seconds(1);
        before = f.server.connections_opened();
        report = f.backup();
        INFO(errors_of(report));
        REQUIRE(report_ok(report));
        // Without an estimate all three start; one may find the queue empty
        // before it connects, the mailboxes being this small.
        if (list_status)
            CHECK(f.server.connections_opened() - before == 1);
        else
            CHECK(f.server.connections_opened() - before >= 2);
        for (const char* name : {"INBOX", "Work", "Archive"}) {
            INFO(name);
            CHECK(f.stored(name) == f.on_server(name));
            CHECK(find_report(report, name)->new_messages == 1);
            CHECK(find_report(report, name)->flag_changes == 1);
        }
    }
}

TEST_CASE("standby_worth_opening scales the untaken estimate by the run's pace", "[sync][order]") {
    using us = std::chrono::microseconds;
    struct Case {
        const char* what;
        us elapsed, taken, untaken;
        bool opens;
    } cases[] = {
        {"on pace: 15 ms left is not worth a 50 ms connection", us(100'000), us(100'000),
         us(15'000), false},
        {"1% changed, 100 ms in: 30 ms estimated taken, 15 left, 50 ms at that pace", us(100'000),
         us(30'000), us(15'000), false},
        {"19 times slower than estimated: 10.6 ms left is 200 ms", us(100'000), us(5'300),
         us(10'600), true},
        {"on pace, 100 ms left: twice a connection", us(100'000), us(100'000), us(100'000), true},
        {"nothing left", us(100'000), us(5'000), us(0), false},
        {"nothing taken yet", us(100'000), us(0), us(1), true},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        CHECK(sync::standby_worth_opening(c.elapsed, c.taken, c.untaken, us(50'000)) == c.opens);
    }
}

TEST_CASE("a run whose estimate was too low opens its other connections at the pace it shows",
          "[sync][order]") {
    // The estimate says one connection: a flag change in each mailbox. But
    // every EXAMINE takes 300 ms here (a STORE on thousands of messages may
    // move HIGHESTMODSEQ by one step), so at 100 ms, with three mailboxes
    // untaken, the run is 19 times slower than estimated, and the
    // connections standing by open for them.
    ModelFixture f;
    f.account.connections = 3;
    for (const char* name : {"INBOX", "Work", "Archive", "Sent"}) {
        f.server.add_mailbox(name);
        for (int i = 0; i < 3; ++i)
            f.server.append(name, message(std::string(name) + "-" + std::to_string(i)));
    }
    REQUIRE(report_ok(f.backup()));
    for (const char* name : {"INBOX", "Work", "Archive", "Sent"})
        f.server.set_flags(name, 1, {"\\Flagged"});
    f.account.connection_cost = sync::AccountConfig{}.connection_cost;
    f.server.on_command = [](const ModelCommand& c) {
        if (c.name == "EXAMINE" || c.name == "SELECT")
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
    };
    const auto before = f.server.connections_opened();
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(f.server.connections_opened() - before == 3);
    for (const char* name : {"INBOX", "Work", "Archive", "Sent"}) {
        INFO(name);
        CHECK(find_report(report, name)->flag_changes == 1);
        CHECK(f.stored(name) == f.on_server(name));
    }
}
