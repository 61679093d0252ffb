// Round trips on a run's critical path (issue 10). A connection's last
// mailbox needs no UNSELECT: LOGOUT ends the session, and an EXAMINEd
// mailbox has nothing to expunge. Between two mailboxes UNSELECT stays, so
// no response of the old mailbox can be taken for the new one's.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

// Each connection's commands, by name, in order.
struct CommandsByConnection {
    std::mutex mutex;
    std::map<std::size_t, std::vector<std::string>> names;

    void attach(ModelServer& server) {
        server.on_command = [this](const ModelCommand& c) {
            std::lock_guard lock(mutex);
            names[c.connection].push_back(c.name);
        };
    }
};

std::size_t count(const std::vector<std::string>& names, const std::string& name) {
    return static_cast<std::size_t>(std::count(names.begin(), names.end(), name));
}

}  // namespace

TEST_CASE("a connection's last mailbox is left by LOGOUT alone", "[sync]") {
    for (const int connections : {1, 2}) {
        DYNAMIC_SECTION(connections << " connection(s)") {
            ModelFixture f;
            f.account.connections = connections;
            for (const char* name : {"A", "B", "C"}) {
                f.server.add_mailbox(name);
                f.server.append(name, message(std::string(name) + "1"));
            }
            REQUIRE(report_ok(f.backup()));
            for (const char* name : {"A", "B", "C"}) {
                f.server.append(name, message(std::string(name) + "2"));
                f.server.set_flags(name, 1, {"\\Seen"});
            }
            CommandsByConnection seen;
            seen.attach(f.server);
            auto report = f.backup();
            INFO(errors_of(report));
            REQUIRE(report_ok(report));
            for (const char* name : {"A", "B", "C"}) CHECK(f.stored(name) == f.on_server(name));

            std::size_t examined = 0;
            for (const auto& [connection, names] : seen.names) {
                INFO("connection " << connection);
                REQUIRE(names.size() >= 2);
                CHECK(names.back() == "LOGOUT");
                const std::size_t examines = count(names, "EXAMINE");
                // One UNSELECT between each two mailboxes, none after the last.
                CHECK(count(names, "UNSELECT") == (examines == 0 ? 0 : examines - 1));
                CHECK(names[names.size() - 2] != "UNSELECT");
                examined += examines;
            }
            CHECK(examined == 3);
        }
    }
}
