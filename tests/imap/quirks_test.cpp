// The quirks table: one case per `// Quirk(<server>)` workaround in src/imap,
// each replaying what that server really sent.
#include <imapkeep/imap/client.hpp>
#include <imapkeep/transport/fault.hpp>

#include <catch2/catch.hpp>

using namespace imapkeep;

namespace {

// Answers the n-th command line with replies[n] ("$T" = the client's tag).
transport::StreamPtr replay(std::vector<std::string> replies) {
    auto buffer = std::make_shared<std::string>();
    auto next = std::make_shared<std::size_t>(0);
    return std::make_unique<transport::ScriptedStream>(
        "* OK ready\r\n", [=](const std::string& in) -> std::string {
            *buffer += in;
            std::string out;
            for (std::size_t eol; (eol = buffer->find("\r\n")) != std::string::npos;) {
                std::string tag = buffer->substr(0, buffer->find(' '));
                buffer->erase(0, eol + 2);
                std::string reply = *next < replies.size() ? replies[(*next)++] : "$T OK done\r\n";
                for (std::size_t at; (at = reply.find("$T")) != std::string::npos;) reply.replace(at, 2, tag);
                out += reply;
            }
            return out;
        });
}

}  // namespace

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
            imap::Client client(replay({std::string("* STATUS B1 (UIDNEXT 7 MAILBOXID (") + c.sent +
                                        ") UIDVALIDITY 9)\r\n$T OK done\r\n"}));
            client.read_greeting();
            auto status = client.status("B1", {"UIDNEXT", "MAILBOXID", "UIDVALIDITY"});
            CHECK(status.mailboxid == c.kept);
            REQUIRE(status.uidnext);
            CHECK(status.uidnext->value == 7);
            REQUIRE(status.uidvalidity);
            CHECK(status.uidvalidity->value == 9);
        }
    }
}
