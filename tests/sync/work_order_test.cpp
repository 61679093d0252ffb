// Issue 10: the connection that listed is open already, so it takes the
// mailbox with the most work while the other workers still connect; the rest
// follow, the most work first.
#include "sync/work_order.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <mutex>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
using imapkeep::sync::MailboxWork;
using imapkeep::sync::most_work_first;

TEST_CASE("most_work_first weighs new mail above known mail and keeps ties in order",
          "[sync][order]") {
    struct Case {
        const char* what;
        std::vector<MailboxWork> work;
        std::vector<std::size_t> order;
    } cases[] = {
        {"nothing", {}, {}},
        {"cold: the largest first", {{10, 10}, {500, 500}, {40, 40}}, {1, 2, 0}},
        {"new mail outweighs a larger known mailbox", {{0, 2000}, {50, 60}}, {1, 0}},
        {"a huge mailbox outweighs a little new mail (plain path listing)",
         {{1, 10}, {0, 100000}},
         {1, 0}},
        {"no status: listed order", {{}, {}, {}}, {0, 1, 2}},
        {"ties keep the listed order", {{3, 9}, {5, 5}, {3, 9}}, {1, 0, 2}},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        CHECK(most_work_first(c.work) == c.order);
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
