// The quirks table: one case per `// Quirk(<server>)` workaround in src/imap,
// each replaying what that server really sent.
#include <imapkeep/imap/client.hpp>

#include <catch2/catch.hpp>

#include "imap/scripted_server.hpp"

using namespace imapkeep;
using imapkeep::testing::scripted;

TEST_CASE("Quirk(Cyrus 3.6): a MAILBOXID that is not an objectid is dropped, the rest kept", "[imap][quirk]") {
    struct Case {
        const char* sent;
        const char* kept;
    };
    const Case cases[] = {
        {"xzjosg0wxklz1g5rmfckbzk1", "xzjosg0wxklz1g5rmfckbzk1"},
        {"F2_a-9", "F2_a-9"},
        {"\xc4\xf8^\x89kU", ""},  // as Cyrus 3.6 sent it in LIST-STATUS
        {"-?&]\xbbU", ""},
        {"a.b", ""},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION("MAILBOXID " << c.kept) {
            imap::Client client(scripted("* OK ready\r\n", {{"STATUS", std::string("* STATUS B1 (UIDNEXT 7 MAILBOXID (") +
                                                                       c.sent + ") UIDVALIDITY 9)\r\n$T OK done\r\n"}}));
            client.read_greeting();
            auto status = client.status(
                "B1", {imap::StatusItem::UidNext, imap::StatusItem::MailboxId, imap::StatusItem::UidValidity});
            CHECK(status.mailboxid == c.kept);
            REQUIRE(status.uidnext);
            CHECK(status.uidnext->value == 7);
            REQUIRE(status.uidvalidity);
            CHECK(status.uidvalidity->value == 9);
        }
    }
}
