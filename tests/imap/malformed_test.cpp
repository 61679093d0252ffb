// Malformed untagged data (issue 9, case D). Data no command in flight needs
// is skipped, with one warning per kind however often it comes. Data the
// command in flight needs fails THAT command with a clear error when the
// framing is intact (lines and literals still delimit the response), and the
// connection goes on: the next command works.
#include <imapkeep/imap/client.hpp>
#include <imapkeep/transport/fault.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <utility>

#include "imap/scripted_server.hpp"

using namespace imapkeep;
using imap::Client;
using imapkeep::testing::scripted;

namespace {

struct Unneeded {
    const char* name;
    std::string line;
    std::string kind;  // what the warning names
};

const Unneeded kUnneeded[] = {
    {"broken HIGHESTMODSEQ", "* OK [HIGHESTMODSEQ abc] x\r\n", "OK [HIGHESTMODSEQ]"},
    {"broken UIDVALIDITY", "* OK [UIDVALIDITY -1] x\r\n", "OK [UIDVALIDITY]"},
    {"garbled LIST flag", "* LIST (\\Noselect \"bad) \"/\" foo\r\n", "LIST"},
    {"LIST without a name", "* LIST (\\Noselect)\r\n", "LIST"},
    {"ESEARCH for a command not in flight", "* ESEARCH (TAG \"Z1\") UID ALL abc\r\n", "ESEARCH"},
    {"EXISTS out of range", "* 99999999999 EXISTS\r\n", "EXISTS"},
    {"EXISTS without a number", "* EXISTS\r\n", "EXISTS"},
    {"STATUS with a bad item", "* STATUS INBOX (UIDNEXT abc)\r\n", "STATUS"},
    {"FETCH with a bad UID", "* 3 FETCH (UID abc FLAGS ())\r\n", "FETCH"},
    {"FETCH cut short", "* 3 FETCH (UID 3 FLAGS (\\Seen)\r\n", "FETCH"},
    {"SEARCH with a word", "* SEARCH 1 two 3\r\n", "SEARCH"},
};

UidSet uids(std::uint32_t first, std::uint32_t last) {
    UidSet set;
    set.add_range(Uid(first), Uid(last));
    return set;
}

}  // namespace

TEST_CASE("malformed data no command needs is skipped, with one warning per kind", "[imap][malformed]") {
    for (const auto& u : kUnneeded) {
        INFO(u.name);
        std::vector<std::string> warnings;
        imap::ClientOptions options;
        options.warning = [&](std::string_view w) { warnings.emplace_back(w); };
        Client client(scripted("* PREAUTH hi\r\n",
                               {{"NOOP", u.line + "* 2 EXISTS\r\n" + u.line + "$T OK done\r\n"},
                                {"UID FETCH", "* 1 FETCH (FLAGS () UID 4)\r\n" + u.line + "$T OK done\r\n"}},
                               nullptr),
                      options);
        client.read_greeting();
        CHECK_NOTHROW(client.noop());
        CHECK_NOTHROW(client.noop());
        if (u.kind != "FETCH") {
            int fetched = 0;
            CHECK_NOTHROW(client.uid_fetch(uids(4, 4), imap::FetchItems().flags(), [&](imap::FetchData&) { ++fetched; }));
            CHECK(fetched == 1);
        }
        REQUIRE(warnings.size() == 1);
        CHECK(warnings[0].find(u.kind) != std::string::npos);
    }
}

TEST_CASE("malformed data a command needs fails that command; the connection goes on", "[imap][malformed]") {
    const struct {
        const char* name;
        std::string command;
        std::string reply;
        std::function<void(Client&)> call;
    } cases[] = {
        {"FETCH with a bad UID", "UID FETCH", "* 3 FETCH (UID abc FLAGS ())\r\n* 4 FETCH (UID 9 FLAGS ())\r\n",
         [](Client& c) { c.uid_fetch(uids(1, 9), imap::FetchItems().flags(), [](imap::FetchData&) {}); }},
        {"FETCH cut short", "UID FETCH", "* 3 FETCH (UID 7 FLAGS (\\Seen)\r\n",
         [](Client& c) { c.uid_fetch(uids(1, 9), imap::FetchItems().flags(), [](imap::FetchData&) {}); }},
        {"FETCH with a bad body literal's neighbour", "UID FETCH",
         "* 3 FETCH (UID 7 RFC822.SIZE x BODY[] {5}\r\nhello)\r\n",
         [](Client& c) { c.uid_fetch(uids(1, 9), imap::FetchItems().body_peek(), [](imap::FetchData&) {}); }},
        {"LIST-STATUS with a bad item", "LIST", "* LIST () \"/\" INBOX\r\n* STATUS INBOX (UIDNEXT abc)\r\n",
         [](Client& c) {
             std::vector<imap::StatusData> statuses;
             c.list("", "*", imap::ListOptions{{imap::StatusItem::UidNext}, false}, &statuses);
         }},
        {"LIST-STATUS cut short", "LIST", "* LIST () \"/\" INBOX\r\n* STATUS INBOX (UIDNEXT 5\r\n",
         [](Client& c) {
             std::vector<imap::StatusData> statuses;
             c.list("", "*", imap::ListOptions{{imap::StatusItem::UidNext}, false}, &statuses);
         }},
        {"garbled LIST", "LIST", "* LIST (\\Noselect \"/\" INBOX\r\n", [](Client& c) { c.list("", "*"); }},
        {"STATUS with an odd item list", "STATUS", "* STATUS INBOX (MESSAGES 3 UIDNEXT)\r\n",
         [](Client& c) { c.status("INBOX", {imap::StatusItem::Messages, imap::StatusItem::UidNext}); }},
        {"EXAMINE with a bad UIDVALIDITY", "EXAMINE", "* 3 EXISTS\r\n* OK [UIDVALIDITY abc] x\r\n",
         [](Client& c) { c.select("INBOX"); }},
        {"SEARCH with a word", "UID SEARCH", "* SEARCH 1 abc 3\r\n", [](Client& c) { c.uid_search(imap::SearchKey::all()); }},
        {"ESEARCH with a bad set", "UID SEARCH", "* ESEARCH (TAG \"$T\") UID ALL 1:abc\r\n",
         [](Client& c) { c.uid_search(imap::SearchKey::all(), true); }},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        Client client(scripted("* PREAUTH hi\r\n", {{c.command, c.reply + "$T OK done\r\n"}, {"NOOP", "$T OK\r\n"}}));
        client.read_greeting();
        try {
            c.call(client);
            FAIL("accepted");
        } catch (const imap::Abort& e) {
            FAIL("connection lost: " << e.what());
        } catch (const imap::CommandFailed& e) {
            INFO(e.what());
            CHECK(std::string(e.what()).find("malformed") != std::string::npos);
            CHECK(e.malformed());
        }
        CHECK(client.pending() == 0);
        CHECK_NOTHROW(client.noop());
    }
}

TEST_CASE("malformed data fails only its command when others are in flight", "[imap][malformed]") {
    const char* const bad[] = {"* 1 FETCH (UID 1 FLAGS (\r\n", "* 1 FETCH (UID x FLAGS ())\r\n"};
    for (const char* first_reply : bad) {
        INFO(first_reply);
        std::string script;
        // Both commands are on the wire before any answer arrives.
        auto stream = std::make_unique<transport::ScriptedStream>(
            "* PREAUTH hi\r\n", [&, sent = std::string()](const std::string& in) mutable -> std::string {
                sent += in;
                if (sent.find("K3 NOOP") != std::string::npos) return "K3 OK\r\n";
                if (std::count(sent.begin(), sent.end(), '\n') < 2) return "";
                return std::exchange(script, "");
            });
        Client client(std::move(stream));
        client.read_greeting();
        std::vector<std::uint32_t> first_seen, second_seen;
        auto first = client.submit_uid_fetch(uids(1, 1), imap::FetchItems().flags(),
                                             [&](imap::FetchData& d) { first_seen.push_back(d.uid->value); });
        auto second = client.submit("NOOP", {}, [&](const wire::Response& r, const wire::Frame&) {
            if (r.type != "EXISTS") return false;
            second_seen.push_back(static_cast<std::uint32_t>(*r.number));
            return true;
        });
        script = std::string(first_reply) + "* 4 EXISTS\r\nK1 OK\r\nK2 OK\r\n";
        auto done = client.wait(first);
        CHECK_FALSE(done.ok());
        CHECK_FALSE(done.malformed.empty());
        CHECK(first_seen.empty());
        CHECK(client.wait(second).ok());
        CHECK(second_seen == std::vector<std::uint32_t>{4});
        CHECK_NOTHROW(client.noop());
    }
}

TEST_CASE("an ESEARCH for another tag is not taken as this search's answer", "[imap][malformed]") {
    Client client(scripted("* PREAUTH [CAPABILITY IMAP4rev1 ESEARCH] hi\r\n",
                           {{"UID SEARCH", "* ESEARCH (TAG \"Z9\") UID ALL 1:1000\r\n"
                                           "* ESEARCH (TAG \"$T\") UID ALL 4,7\r\n$T OK done\r\n"}}));
    client.read_greeting();
    auto found = client.uid_search(imap::SearchKey::all(), true);
    CHECK(found.uids.to_string() == "4,7");
}
