// StatusItems, ListOptions and FlagList (issue 13 "make the seam real"): what
// callers outside imap/ pass to STATUS, LIST and APPEND is typed; each value
// encodes to the exact bytes expected, and a STATUS reply comes back as typed
// values.
#include <catch2/catch.hpp>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/imap/flag_list.hpp>
#include <imapkeep/imap/status_items.hpp>

#include "imap/scripted_server.hpp"

using namespace imapkeep;
using imap::FlagList;
using imap::StatusItem;
using imap::StatusItems;
using imapkeep::testing::command_lines;
using imapkeep::testing::scripted;

namespace {

// The client's lines after the greeting, for a server that answers every
// command with a tagged OK after `untagged`.
std::vector<std::string> sent_by(const std::function<void(imap::Client&)>& call, const std::string& untagged = "") {
    auto log = std::make_shared<std::string>();
    imap::Client client(scripted("* PREAUTH hi\r\n", {{"", untagged + "$T OK done\r\n"}}, log));
    client.read_greeting();
    call(client);
    return command_lines(*log);
}

}  // namespace

TEST_CASE("StatusItems: each item's name, in the order asked, each once", "[imap][typed]") {
    struct Case {
        StatusItems items;
        std::string wire;
    };
    const Case cases[] = {
        {{StatusItem::Messages}, "(MESSAGES)"},
        {{StatusItem::Recent}, "(RECENT)"},
        {{StatusItem::Unseen}, "(UNSEEN)"},
        {{StatusItem::UidNext}, "(UIDNEXT)"},
        {{StatusItem::UidValidity}, "(UIDVALIDITY)"},
        {{StatusItem::HighestModSeq}, "(HIGHESTMODSEQ)"},
        {{StatusItem::Size}, "(SIZE)"},
        {{StatusItem::MailboxId}, "(MAILBOXID)"},
        {{StatusItem::AppendLimit}, "(APPENDLIMIT)"},
        // mailbox_sync.cpp's (byte-identical to the old strings)
        {{StatusItem::UidValidity, StatusItem::UidNext, StatusItem::HighestModSeq},
         "(UIDVALIDITY UIDNEXT HIGHESTMODSEQ)"},
        {{StatusItem::UidNext, StatusItem::Messages, StatusItem::UidNext}, "(UIDNEXT MESSAGES)"},
    };
    for (const auto& c : cases) {
        INFO(c.wire);
        CHECK(c.items.to_string() == c.wire);
        CHECK(sent_by([&](imap::Client& client) { client.status("INBOX", c.items); }) ==
              std::vector<std::string>{"K1 STATUS INBOX " + c.wire});
    }
    StatusItems grown;
    grown.add(StatusItem::Messages).add(StatusItem::Size).add(StatusItem::Messages);
    CHECK(grown == StatusItems{StatusItem::Messages, StatusItem::Size});
    CHECK(grown.contains(StatusItem::Size));
    CHECK_FALSE(grown.contains(StatusItem::UidNext));
    CHECK_THROWS_AS(StatusItems().arg(), std::invalid_argument);
}

TEST_CASE("STATUS: the reply's items come back typed, names compared case-insensitively", "[imap][typed]") {
    struct Case {
        const char* reply;  // the items of "* STATUS INBOX (...)"
        std::function<void(const imap::StatusData&)> check;
    };
    const Case cases[] = {
        {"MESSAGES 3 RECENT 1 UNSEEN 2",
         [](const auto& s) {
             CHECK(s.messages == 3u);
             CHECK(s.recent == 1u);
             CHECK(s.unseen == 2u);
             CHECK_FALSE(s.uidnext);
         }},
        {"uidnext 8 UidValidity 4294967295",
         [](const auto& s) {
             CHECK(s.uidnext->value == 8u);
             CHECK(s.uidvalidity->value == 4294967295u);
         }},
        {"HIGHESTMODSEQ 18446744073709551615 SIZE 12345",
         [](const auto& s) {
             CHECK(s.highestmodseq->value == 18446744073709551615u);
             CHECK(s.size == 12345u);
         }},
        {"MAILBOXID (F2212ea87-6097-4256-9d51-71338625)",
         [](const auto& s) { CHECK(s.mailboxid == "F2212ea87-6097-4256-9d51-71338625"); }},
        {"APPENDLIMIT 1048576", [](const auto& s) { CHECK(s.appendlimit == 1048576u); }},
        {"APPENDLIMIT NIL", [](const auto& s) { CHECK_FALSE(s.appendlimit); }},
        {"X-UNKNOWN 5 MESSAGES 1", [](const auto& s) { CHECK(s.messages == 1u); }},
    };
    for (const auto& c : cases) {
        INFO(c.reply);
        imap::Client client(scripted(
            "* PREAUTH hi\r\n", {{"STATUS", std::string("* STATUS INBOX (") + c.reply + ")\r\n$T OK done\r\n"}}));
        client.read_greeting();
        const auto status = client.status("INBOX", {StatusItem::Messages});
        CHECK(status.name == "INBOX");
        c.check(status);
    }
}

TEST_CASE("ListOptions: the RETURN options, typed", "[imap][typed]") {
    struct Case {
        const char* name;
        imap::ListOptions options;
        std::string line;
    };
    const Case cases[] = {
        {"none", {}, "K1 LIST \"\" \"*\""},
        {"SPECIAL-USE", {{}, true}, "K1 LIST \"\" \"*\" RETURN (SPECIAL-USE)"},
        {"LIST-STATUS (backup.cpp's)",
         {{StatusItem::UidValidity, StatusItem::UidNext, StatusItem::Messages, StatusItem::HighestModSeq}, false},
         "K1 LIST \"\" \"*\" RETURN (STATUS (UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ))"},
        {"MAILBOXID alone (Quirk(Cyrus 3.6))", {{StatusItem::MailboxId}, false},
         "K1 LIST \"\" \"*\" RETURN (STATUS (MAILBOXID))"},
        {"both", {{StatusItem::Messages, StatusItem::Size}, true},
         "K1 LIST \"\" \"*\" RETURN (SPECIAL-USE STATUS (MESSAGES SIZE))"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        std::vector<imap::StatusData> statuses;
        CHECK(sent_by([&](imap::Client& client) { client.list("", "*", c.options, &statuses); },
                      "* LIST () \"/\" INBOX\r\n* STATUS INBOX (MESSAGES 2 UIDNEXT 3)\r\n") ==
              std::vector<std::string>{c.line});
        if (!c.options.return_status.empty()) {
            REQUIRE(statuses.size() == 1);
            CHECK(statuses[0].messages == 2u);
            CHECK(statuses[0].uidnext->value == 3u);
        }
    }
}

TEST_CASE("FlagList: APPEND's flag-list, every flag checked as the list is made", "[imap][typed]") {
    struct Case {
        FlagList flags;
        std::string line;  // the APPEND's line up to its literal
    };
    const Case cases[] = {
        {{}, "K1 APPEND INBOX {3}"},
        {{"\\Seen"}, "K1 APPEND INBOX (\\Seen) {3}"},
        {{"\\Seen", "$Forwarded", "\\Flagged", "Junk"}, "K1 APPEND INBOX (\\Seen $Forwarded \\Flagged Junk) {3}"},
        {std::vector<std::string>{"$label1"}, "K1 APPEND INBOX ($label1) {3}"},
    };
    for (const auto& c : cases) {
        INFO(c.line);
        auto lines = sent_by([&](imap::Client& client) { client.append("INBOX", c.flags, std::nullopt, "m\r\n"); });
        REQUIRE_FALSE(lines.empty());
        CHECK(lines[0] == c.line);
    }
    CHECK(FlagList{"\\Seen", "$Work"}.to_string() == "(\\Seen $Work)");
    CHECK(FlagList().to_string() == "()");
    for (const std::string bad : {"two words", "(x", "x)", "\"q\"", "\\*", "caf\xc3\xa9", "", "a\r\nb", "%", "x{3}"}) {
        INFO(bad);
        CHECK_THROWS_AS(FlagList({bad}), std::invalid_argument);
        CHECK_FALSE(imap::is_flag(bad));
    }
}
