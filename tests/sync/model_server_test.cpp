// The model server itself, driven by the whole backup engine on each sync path:
// what it stores must be what the model holds, run after run.
#include <catch2/catch.hpp>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

struct PathCase {
    const char* name;
    std::set<std::string> caps;
    const char* expected_path;
};

const PathCase kPaths[] = {
    {"qresync",
     {"ENABLE", "CONDSTORE", "QRESYNC", "ESEARCH", "LIST-STATUS", "UNSELECT"},
     "QRESYNC"},
    {"condstore+esearch", {"ENABLE", "CONDSTORE", "ESEARCH", "UNSELECT"}, "CONDSTORE"},
    {"condstore", {"CONDSTORE"}, "CONDSTORE"},
    {"plain", {}, "plain"},
    {"plain+literal+", {"LITERAL+", "UNSELECT"}, "plain"},
};

}  // namespace

TEST_CASE("model server: backups follow new mail, flags and expunges on every path",
          "[sync][model]") {
    for (const auto& c : kPaths) {
        DYNAMIC_SECTION(c.name) {
            ModelFixture f;
            f.server.set_capabilities(c.caps);
            f.server.add_mailbox("INBOX");
            f.server.add_mailbox("Work/Projects \"x\"");
            for (int i = 0; i < 5; ++i) f.server.append("INBOX", message("in" + std::to_string(i)));
            f.server.append("Work/Projects \"x\"", message("w1"), {"\\Seen"});

            auto first = f.backup();
            REQUIRE(report_ok(first));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(f.stored("Work/Projects \"x\"") == f.on_server("Work/Projects \"x\""));

            f.server.expunge("INBOX", 2);
            f.server.set_flags("INBOX", 3, {"\\Flagged"});
            f.server.append("INBOX", message("in5"));
            auto second = f.backup();
            REQUIRE(report_ok(second));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            bool saw_inbox = false;
            for (const auto& m : second.mailboxes) {
                if (m.name != "INBOX") continue;
                saw_inbox = true;
                CHECK(m.path == c.expected_path);
                CHECK(m.new_messages == 1);
                CHECK(m.expunged == 1);
                CHECK(m.flag_changes == 1);
            }
            CHECK(saw_inbox);
            auto inbox = f.record("INBOX");
            REQUIRE(inbox);
            CHECK(inbox->uidnext == f.server.mailbox("INBOX").uidnext);
        }
    }
}

TEST_CASE("model server: synchronizing literals get their continuation", "[sync][model]") {
    ModelServer server;
    server.set_capabilities({});
    server.password = "p\xc3\xa4ss \"quoted\"";  // 8-bit: sent as a literal
    server.add_mailbox("INBOX");
    auto client = imap::connect_and_login(server.connect_options());
    CHECK(client->state() == imap::State::Authenticated);
    REQUIRE(server.count_commands("LOGIN") == 1);
    CHECK(server.commands().front().find("{") != std::string::npos);
}
