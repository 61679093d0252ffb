// A FETCH out of turn: a server sends a message's body in the reply to a
// command that did not ask for it, after the chunk that did ask came back
// without it. RFC 3501 §7 lets a server send untagged data at any time; a
// FETCH of a UID outside the asked set is known from servers' unilateral
// updates (getmail6#93: ProtonMail Bridge, MailKit#435). That late body must
// neither be stored outside its chunk's commit nor let the mark pass the UID
// (invariant 1): the UID stays this run's error and comes next run.
#include <catch2/catch.hpp>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

TEST_CASE("a body sent out of turn, after its chunk came without it, never moves the mark past it",
          "[sync][invariant1][hostile]") {
    for (const char* path : {"qresync", "plain"}) {
        DYNAMIC_SECTION(path) {
            ModelFixture f;
            f.account.sync_path = path;
            f.server.add_mailbox("INBOX");
            for (int i = 1; i <= 450; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
            bool hostile = true;
            f.server.on_fetch_item = [&](const std::string&, std::uint32_t uid, const std::string& item,
                                         std::string& rendered) {
                if (hostile && uid == 3 && item == "BODY[]") rendered.clear();  // its chunk: no body
            };
            f.server.on_reply = [&](const ModelCommand& c, std::string& reply, bool&) {
                if (!hostile || c.name != "UID FETCH" || c.text.find(" 201:400 ") == std::string::npos) return;
                const auto& body = f.server.mailbox("INBOX").messages.at(3).body;
                reply.insert(0, "* 3 FETCH (UID 3 BODY[] {" + std::to_string(body.size()) + "}\r\n" + body +
                                    ")\r\n");
            };

            auto first = f.backup();
            CHECK_FALSE(report_ok(first));
            const auto* inbox = find_report(first, "INBOX");
            REQUIRE(inbox);
            REQUIRE(inbox->errors.size() == 1);
            CHECK(inbox->errors[0].find("UID 3:") != std::string::npos);
            CHECK(f.stored("INBOX").count(3) == 0);
            REQUIRE(f.record("INBOX"));
            CHECK(f.record("INBOX")->uidnext <= 3);

            hostile = false;
            auto second = f.backup();
            INFO(errors_of(second));
            CHECK(report_ok(second));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(f.record("INBOX")->uidnext == 451);
        }
    }
}
