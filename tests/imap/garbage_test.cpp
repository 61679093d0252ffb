// Garbage in the middle of an exchange (issue 9, case A): unknown untagged
// responses are kept out of the way, a tagged reply for a tag that was never
// sent and a literal cut short by EOF end the connection cleanly, with no
// handler left behind (DESIGN.md invariant 5).
#include <imapkeep/imap/client.hpp>
#include <imapkeep/transport/fault.hpp>

#include <catch2/catch.hpp>

#include <functional>

#include "imap/scripted_server.hpp"

using namespace imapkeep;
using imap::Client;
using imapkeep::testing::scripted;
using imapkeep::testing::VectorSink;

namespace {

const char* const kUnknownUntagged[] = {
    "* XYZZY foo (bar)\r\n",
    "* 5 WHATEVER\r\n",
    "* 5 WHATEVER {3}\r\nabc\r\n",
    "* XYZZY \"unterminated (\r\n",
    "* NOOP\r\n",
    "* 7 XYZZY (UID 99 FLAGS (\\Seen))\r\n",
};

UidSet uids(std::uint32_t first, std::uint32_t last) {
    UidSet set;
    set.add_range(Uid(first), Uid(last));
    return set;
}

// One exchange with a slot for garbage in the middle of its answer; `run`
// issues the command and checks its result came through whole.
struct Exchange {
    const char* name;
    std::string command;
    std::function<std::string(const std::string& garbage)> answer;
    std::function<void(Client&)> run;
};

std::vector<Exchange> exchanges() {
    return {
        {"UID FETCH", "UID FETCH",
         [](const std::string& g) {
             return "* 1 FETCH (UID 7 FLAGS (\\Seen))\r\n" + g +
                    "* 2 FETCH (UID 8 FLAGS () BODY[] {5}\r\nhello)\r\n$T OK done\r\n";
         },
         [](Client& c) {
             std::vector<std::uint32_t> seen;
             std::string body;
             c.uid_fetch(uids(7, 8), imap::FetchItems().flags().body_peek(), [&](imap::FetchData& d) {
                 seen.push_back(d.uid->value);
                 body += d.body;
             });
             CHECK(seen == std::vector<std::uint32_t>{7, 8});
             CHECK(body == "hello");
         }},
        {"EXAMINE", "EXAMINE",
         [](const std::string& g) {
             return "* 3 EXISTS\r\n" + g +
                    "* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 9] ok\r\n$T OK [READ-ONLY] done\r\n";
         },
         [](Client& c) {
             auto s = c.select("INBOX");
             CHECK(s.exists == 3);
             CHECK(s.uidvalidity.value == 42);
             CHECK(s.uidnext->value == 9);
         }},
        {"LIST", "LIST",
         [](const std::string& g) {
             return "* LIST () \"/\" INBOX\r\n" + g + "* LIST (\\HasNoChildren) \"/\" Sent\r\n$T OK\r\n";
         },
         [](Client& c) {
             auto entries = c.list("", "*");
             REQUIRE(entries.size() == 2);
             CHECK(entries[0].name == "INBOX");
             CHECK(entries[1].name == "Sent");
         }},
    };
}

}  // namespace

TEST_CASE("unknown untagged responses in the middle of an exchange are tolerated", "[imap][garbage]") {
    for (const auto& x : exchanges()) {
        for (const char* garbage : kUnknownUntagged) {
            INFO(x.name << " with " << garbage);
            Client client(scripted("* PREAUTH hi\r\n", {{x.command, x.answer(garbage)}, {"NOOP", "$T OK\r\n"}}));
            client.read_greeting();
            x.run(client);
            CHECK_NOTHROW(client.noop());
        }
    }
}

TEST_CASE("a tagged reply for a tag never sent ends the connection, no handler left", "[imap][garbage]") {
    const char* const bogus[] = {"ZZ9 OK bogus\r\n", "K99 OK not sent yet\r\n", "K1x NO what\r\n"};
    for (const auto& x : exchanges()) {
        for (const char* tagged : bogus) {
            INFO(x.name << " with " << tagged);
            Client client(scripted("* PREAUTH hi\r\n", {{x.command, x.answer(tagged)}, {"NOOP", "$T OK\r\n"}}));
            client.read_greeting();
            // The handler holds `token`: once the connection is abandoned,
            // nothing may keep it (or whatever else the caller lent it).
            auto token = std::make_shared<int>(0);
            std::string error;
            try {
                client.wait(client.submit(x.command == "UID FETCH" ? "UID FETCH" : x.command,
                                          {wire::Arg::raw(x.command == "LIST" ? "\"\" *" : "1:*")},
                                          [token](const wire::Response&, const wire::Frame&) { return true; }));
                FAIL("no exception");
            } catch (const imap::Abort& e) {
                error = e.what();
            }
            CHECK(error.find("unexpected tagged response") != std::string::npos);
            CHECK(client.pending() == 0);
            CHECK(token.use_count() == 1);
            CHECK_THROWS_AS(client.noop(), imap::Abort);
        }
    }
}

TEST_CASE("a literal cut short by EOF ends the connection cleanly", "[imap][garbage]") {
    const char* const truncated[] = {
        "* 1 FETCH (UID 7 BODY[] {100}\r\nonly this",
        "* 1 FETCH (UID 7 BODY[] {100}\r\n",
        "* 1 FETCH (UID 7 BODY[HEADER] {100}\r\nFrom: a",
        "* 1 FETCH (UID 7 FLAGS (\\Seen)",
    };
    for (const char* answer : truncated) {
        INFO(answer);
        Client client(scripted("* PREAUTH hi\r\n", {{"UID FETCH", answer}}));
        client.read_greeting();
        VectorSink sink;
        client.set_body_sink_factory([&](std::string_view, std::uint64_t) { return &sink; });
        auto token = std::make_shared<int>(0);
        int calls = 0;
        CHECK_THROWS_AS(client.uid_fetch(uids(7, 7), imap::FetchItems().body_peek(), [&calls, token](imap::FetchData&) { ++calls; }),
                        imap::Abort);
        CHECK(calls == 0);
        CHECK_FALSE(sink.finished);
        CHECK(client.pending() == 0);
        CHECK(token.use_count() == 1);
        CHECK_THROWS_AS(client.noop(), imap::Abort);
    }
}
