// imap::Client against scripted servers: framing, tags, pipelining, literals,
// typed results, and the fail-closed paths a real server will not produce.
#include <imapkeep/imap/client.hpp>
#include <imapkeep/transport/fault.hpp>
#include <imapkeep/util/base64.hpp>

#include <catch2/catch.hpp>

#include <regex>

#include "imap/scripted_server.hpp"

using namespace imapkeep;
using imap::Client;

using imapkeep::testing::scripted;
using imapkeep::testing::VectorSink;

TEST_CASE("greeting decides the state or fails the right way") {
    struct Case {
        std::string greeting;
        int outcome;  // 0 ok NotAuthenticated, 1 ok Authenticated, 2 Error, 3 Abort
    } cases[] = {
        {"* OK [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n", 0},
        {"* PREAUTH ready\r\n", 1},
        {"* BYE go away\r\n", 2},
        {"* NO nope\r\n", 2},
        {"", 3},
        {"* OK partial", 3},
        {"* OK bare lf\n", 3},
    };
    for (const auto& c : cases) {
        INFO(c.greeting);
        Client client(std::make_unique<transport::ScriptedStream>(c.greeting));
        switch (c.outcome) {
            case 0:
                client.read_greeting();
                CHECK(client.state() == imap::State::NotAuthenticated);
                break;
            case 1:
                client.read_greeting();
                CHECK(client.state() == imap::State::Authenticated);
                break;
            case 2: CHECK_THROWS_AS(client.read_greeting(), imap::Error); break;
            case 3: CHECK_THROWS_AS(client.read_greeting(), imap::Abort); break;
        }
    }
}

TEST_CASE("capabilities come from the greeting code and are refreshed after LOGIN") {
    auto log = std::make_shared<std::string>();
    Client client(scripted("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n",
                           {{"LOGIN", "$T OK [CAPABILITY IMAP4rev1 CONDSTORE QRESYNC] in\r\n"},
                            {"CAPABILITY", "* CAPABILITY IMAP4rev1 X-NEVER\r\n$T OK\r\n"}},
                           log));
    client.read_greeting();
    CHECK(client.has_capability("auth=plain"));
    CHECK_FALSE(client.has_capability("CONDSTORE"));
    client.login("me", "p a\"ss");
    CHECK(client.has_capability("QRESYNC"));
    CHECK(client.state() == imap::State::Authenticated);
    CHECK(log->find("LOGIN me \"p a\\\"ss\"\r\n") != std::string::npos);
    CHECK(log->find("CAPABILITY") == std::string::npos);  // the OK code sufficed
}

TEST_CASE("traces never contain the password") {
    std::string trace;
    imap::ClientOptions options;
    options.trace = [&](std::string_view line) { trace += std::string(line) + "\n"; };
    Client client(scripted("* OK hi\r\n", {{"LOGIN", "$T OK done\r\n"},
                                           {"CAPABILITY", "* CAPABILITY IMAP4rev1\r\n$T OK\r\n"}}),
                  options);
    client.read_greeting();
    client.login("alice", "s3cret-pw");
    CHECK(trace.find("s3cret-pw") == std::string::npos);
    CHECK(trace.find("LOGIN") != std::string::npos);
}

TEST_CASE("a tagged NO is a CommandFailed with its response code") {
    Client client(scripted("* OK hi\r\n", {{"LOGIN", "$T NO [AUTHENTICATIONFAILED] bad\r\n"}}));
    client.read_greeting();
    try {
        client.login("a", "b");
        FAIL("no throw");
    } catch (const imap::CommandFailed& e) {
        CHECK(e.code_name() == "AUTHENTICATIONFAILED");
        CHECK_FALSE(e.is_bad());
    }
    CHECK(client.state() == imap::State::NotAuthenticated);
}

TEST_CASE("EXAMINE gives typed SELECT data") {
    Client client(scripted("* PREAUTH hi\r\n",
                           {{"EXAMINE",
                             "* 172 EXISTS\r\n* 1 RECENT\r\n"
                             "* FLAGS (\\Answered \\Seen $Work)\r\n"
                             "* OK [PERMANENTFLAGS ()] none\r\n"
                             "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
                             "* OK [UIDNEXT 4392] next\r\n"
                             "* OK [HIGHESTMODSEQ 715194045007] mod\r\n"
                             "$T OK [READ-ONLY] EXAMINE completed\r\n"}}));
    client.read_greeting();
    auto s = client.select("INBOX", true);
    CHECK(s.exists == 172);
    CHECK(s.recent == 1);
    CHECK(s.flags == std::vector<std::string>{"\\Answered", "\\Seen", "$Work"});
    REQUIRE(s.permanent_flags);
    CHECK(s.permanent_flags->empty());
    CHECK(s.uidvalidity.value == 3857529045u);
    CHECK(s.uidnext->value == 4392u);
    CHECK(s.highestmodseq->value == 715194045007ull);
    CHECK(s.read_only);
    CHECK(client.state() == imap::State::Selected);
}

TEST_CASE("SELECT that comes back READ-ONLY throws ReadOnly") {
    Client client(scripted("* PREAUTH hi\r\n",
                           {{"SELECT", "* 1 EXISTS\r\n$T OK [READ-ONLY] done\r\n"}}));
    client.read_greeting();
    CHECK_THROWS_AS(client.select("INBOX", false), imap::ReadOnly);
}

TEST_CASE("pipelined UID FETCH streams bodies to sinks and routes every response") {
    std::string body1 = "Subject: one\r\n\r\nhello\r\n";
    std::string body2(100000, 'x');
    std::string reply1 = "* 1 FETCH (UID 10 FLAGS (\\Seen) BODY[] {" + std::to_string(body1.size()) +
                         "}\r\n" + body1 + ")\r\n$T OK done\r\n";
    std::string reply2 = "* 2 FETCH (UID 11 FLAGS () INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" BODY[] {" +
                         std::to_string(body2.size()) + "}\r\n" + body2 + ")\r\n$T OK done\r\n";
    auto stream = std::make_unique<transport::ScriptedStream>(
        "* PREAUTH hi\r\n",
        [&, n = 0](const std::string& in) mutable -> std::string {
            // Both commands arrive before any answer: that is the pipelining.
            if (n++ == 0) {
                CHECK(std::count(in.begin(), in.end(), '\n') == 2);
                auto t1 = in.substr(0, in.find(' '));
                auto second = in.substr(in.find('\n') + 1);
                auto t2 = second.substr(0, second.find(' '));
                return std::regex_replace(reply1, std::regex("\\$T"), t1) +
                       std::regex_replace(reply2, std::regex("\\$T"), t2);
            }
            return "";
        },
        777);
    Client client(std::move(stream));
    client.read_greeting();
    std::vector<std::unique_ptr<VectorSink>> sinks;
    client.set_body_sink_factory([&](std::string_view, std::uint64_t) {
        sinks.push_back(std::make_unique<VectorSink>());
        return sinks.back().get();
    });
    std::vector<imap::FetchData> got;
    UidSet a, b;
    a.add(Uid(10));
    b.add(Uid(11));
    auto t1 = client.submit_uid_fetch(a, imap::FetchItems().uid().flags().body_peek(), [&](auto& d) { got.push_back(d); });
    auto t2 = client.submit_uid_fetch(b, imap::FetchItems().uid().flags().body_peek(), [&](auto& d) { got.push_back(d); });
    CHECK(client.wait(t1).ok());
    CHECK(client.wait(t2).ok());
    REQUIRE(got.size() == 2);
    REQUIRE(sinks.size() == 2);
    CHECK(got[0].uid->value == 10);
    CHECK(got[0].body_sink == sinks[0].get());
    CHECK(sinks[0]->data == body1);
    CHECK(sinks[1]->data == body2);
    CHECK(sinks[1]->chunks > 1);  // arrived in pieces, never whole
    CHECK(sinks[1]->finished);
    CHECK(*got[1].internaldate == "17-Jul-1996 02:44:25 -0700");
}

TEST_CASE("APPEND waits for + with synchronizing literals and not with LITERAL+") {
    for (bool plus : {false, true}) {
        auto log = std::make_shared<std::string>();
        std::string caps = plus ? "IMAP4rev1 LITERAL+ UIDPLUS" : "IMAP4rev1 UIDPLUS";
        auto buffer = std::make_shared<std::string>();
        int answers = 0;
        auto stream = std::make_unique<transport::ScriptedStream>(
            "* PREAUTH [CAPABILITY " + caps + "] hi\r\n",
            [&, buffer, plus](const std::string& in) -> std::string {
                *log += in;
                *buffer += in;
                ++answers;
                auto tag = buffer->substr(0, buffer->find(' '));
                if (!plus && buffer->find("}\r\n") != std::string::npos &&
                    buffer->find("hello") == std::string::npos)
                    return "+ go ahead\r\n";
                if (buffer->find("hello\r\n\r\n") != std::string::npos)
                    return tag + " OK [APPENDUID 38505 3955] done\r\n";
                return "";
            });
        Client client(std::move(stream));
        client.read_greeting();
        auto r = client.append("Sent", {"\\Seen"}, std::string("01-Jan-2024 10:00:00 +0000"), "hello\r\n");
        CHECK(r.uidvalidity->value == 38505u);
        CHECK(r.uid->value == 3955u);
        CHECK(log->find(plus ? "{7+}\r\n" : "{7}\r\n") != std::string::npos);
        CHECK(log->find("(\\Seen) \"01-Jan-2024 10:00:00 +0000\"") != std::string::npos);
    }
}

TEST_CASE("STARTTLS fails closed") {
    SECTION("bytes injected after the tagged OK") {
        Client client(scripted("* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n",
                               {{"STARTTLS", "$T OK begin\r\n* OK injected\r\n"}}));
        client.read_greeting();
        CHECK_THROWS_AS(client.starttls({}, "localhost"), imap::Abort);
        CHECK_THROWS_AS(client.noop(), imap::Abort);
    }
    SECTION("capability missing") {
        Client client(scripted("* OK [CAPABILITY IMAP4rev1] hi\r\n", {}));
        client.read_greeting();
        CHECK_THROWS_AS(client.starttls({}, "localhost"), imap::Abort);
    }
    SECTION("NO to STARTTLS") {
        Client client(scripted("* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n",
                               {{"STARTTLS", "$T NO not now\r\n"}}));
        client.read_greeting();
        CHECK_THROWS_AS(client.starttls({}, "localhost"), imap::Abort);
    }
    SECTION("PREAUTH greeting") {
        Client client(scripted("* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n", {}));
        client.read_greeting();
        CHECK_THROWS_AS(client.starttls({}, "localhost"), imap::Abort);
    }
}

TEST_CASE("an untagged BYE aborts every pending command") {
    Client client(scripted("* PREAUTH hi\r\n", {{"NOOP", "* BYE shutting down\r\n"}}));
    client.read_greeting();
    auto t = client.submit("NOOP", {});
    CHECK_THROWS_AS(client.wait(t), imap::Abort);
    CHECK_THROWS_AS(client.submit("NOOP", {}), imap::Abort);
}

TEST_CASE("LIST, STATUS and ESEARCH are typed") {
    Client client(scripted(
        "* PREAUTH hi\r\n",
        {{"LIST", "* LIST (\\HasNoChildren \\Sent) \"/\" \"Entw&APw-rfe\"\r\n"
                  "* LIST (\\Noselect) \"/\" {3}\r\nA B\r\n"
                  "* STATUS \"Entw&APw-rfe\" (UIDNEXT 5 UIDVALIDITY 9 HIGHESTMODSEQ 77)\r\n$T OK\r\n"},
         {"UID SEARCH", "* ESEARCH (TAG \"$T\") UID ALL 1:3,7 COUNT 4\r\n$T OK\r\n"},
         {"STATUS", "* STATUS INBOX (MESSAGES 3 UIDNEXT 8)\r\n$T OK\r\n"}}));
    client.read_greeting();
    std::vector<imap::StatusData> statuses;
    imap::ListOptions options;
    options.return_status = {imap::StatusItem::UidNext};
    auto entries = client.list("", "*", options, &statuses);
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].name == "Entwürfe");
    CHECK(entries[0].delimiter == "/");
    CHECK(entries[0].has_attribute("\\sent"));
    CHECK(entries[1].name == "A B");
    CHECK_FALSE(entries[1].selectable());
    REQUIRE(statuses.size() == 1);
    CHECK(statuses[0].name == "Entwürfe");
    CHECK(statuses[0].highestmodseq->value == 77);
    auto found = client.uid_search(imap::SearchKey::all(), true);
    CHECK(found.uids.to_string() == "1:3,7");
    CHECK(*found.count == 4);
    auto st = client.status("INBOX", {imap::StatusItem::Messages, imap::StatusItem::UidNext});
    CHECK(*st.messages == 3);
    CHECK(st.uidnext->value == 8);
}

TEST_CASE("AUTHENTICATE uses SASL-IR when offered and answers challenges otherwise") {
    const std::string plain = util::base64_encode(std::string("\0me\0pw", 6));
    for (bool ir : {true, false}) {
        auto log = std::make_shared<std::string>();
        std::string tag;
        auto stream = std::make_unique<transport::ScriptedStream>(
            std::string("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN") + (ir ? " SASL-IR" : "") + "] hi\r\n",
            [&](const std::string& in) -> std::string {
                *log += in;
                if (tag.empty()) tag = in.substr(0, in.find(' '));
                if (in.find(plain + "\r\n") != std::string::npos) return tag + " OK yes\r\n";
                if (in.find("AUTHENTICATE PLAIN\r\n") != std::string::npos) return "+ \r\n";
                return tag + " NO unexpected\r\n";
            });
        Client client(std::move(stream));
        client.read_greeting();
        auto mech = imap::sasl_plain("me", "pw");
        client.authenticate(*mech);
        CHECK(client.state() == imap::State::Authenticated);
        CHECK((log->find("AUTHENTICATE PLAIN " + plain) != std::string::npos) == ir);
    }
}

TEST_CASE("a callback mechanism that gives up sends *") {
    auto log = std::make_shared<std::string>();
    std::string tag;
    auto stream = std::make_unique<transport::ScriptedStream>(
        "* OK [CAPABILITY IMAP4rev1 AUTH=X-TEST] hi\r\n", [&](const std::string& in) -> std::string {
            *log += in;
            if (tag.empty()) tag = in.substr(0, in.find(' '));
            if (in == "*\r\n") return tag + " BAD cancelled\r\n";
            return "+ " + util::base64_encode("challenge") + "\r\n";
        });
    Client client(std::move(stream));
    client.read_greeting();
    std::string seen;
    auto mech = imap::sasl_callback("X-TEST", [&](std::string_view c) -> std::optional<std::string> {
        seen = c;
        return std::nullopt;
    });
    CHECK_THROWS_AS(client.authenticate(*mech), imap::CommandFailed);
    CHECK(seen == "challenge");
    CHECK(log->find("\r\n*\r\n") != std::string::npos);
}

TEST_CASE("arguments with CR or LF never reach the wire") {
    auto log = std::make_shared<std::string>();
    Client client(scripted("* PREAUTH hi\r\n", {{"CREATE", "$T OK\r\n"}}, log));
    client.read_greeting();
    CHECK_THROWS_AS(client.submit("SEARCH", {wire::Arg::raw("HEADER X a\r\nB DELETE INBOX")}),
                    imap::Error);
    CHECK(log->find("DELETE") == std::string::npos);
    client.create("a\"b");  // quoted, not injected
    CHECK(log->find("CREATE \"a\\\"b\"") != std::string::npos);
}

TEST_CASE("EXAMINE with QRESYNC returns what vanished and what changed") {
    auto log = std::make_shared<std::string>();
    Client client(scripted("* PREAUTH hi\r\n",
                           {{"EXAMINE",
                             "* OK [UIDVALIDITY 67890007] ok\r\n"
                             "* OK [HIGHESTMODSEQ 90060128194045007] ok\r\n"
                             "* VANISHED (EARLIER) 41,43:116,118\r\n"
                             "* 49 FETCH (UID 117 FLAGS (\\Seen \\Answered) MODSEQ (90060115194045001))\r\n"
                             "* 5 FETCH (FLAGS (\\Deleted))\r\n"
                             "$T OK [READ-ONLY] done\r\n"}},
                           log));
    client.read_greeting();
    std::vector<std::string> unsolicited;
    client.set_unsolicited_handler([&](const wire::Response& r, const wire::Frame&) {
        unsolicited.push_back(r.type);
        return true;
    });
    imap::QresyncParams q{UidValidity(67890007), ModSeq(90060115194045000ull), {}};
    auto s = client.select("INBOX", true, q);
    CHECK(log->find("EXAMINE INBOX (QRESYNC (67890007 90060115194045000))") != std::string::npos);
    CHECK(s.vanished.to_string() == "41,43:116,118");
    REQUIRE(s.changed.size() == 1);
    CHECK(s.changed[0].uid->value == 117);
    CHECK(s.changed[0].modseq->value == 90060115194045001ull);
    // A FETCH without UID is not part of the answer: it reaches the handler.
    CHECK(unsolicited == std::vector<std::string>{"FETCH"});
}

TEST_CASE("EXAMINE with QRESYNC hands each change to on_changed instead of keeping it") {
    Client client(scripted("* PREAUTH hi\r\n",
                           {{"EXAMINE",
                             "* OK [UIDVALIDITY 7] ok\r\n"
                             "* OK [HIGHESTMODSEQ 20] ok\r\n"
                             "* 1 FETCH (UID 3 FLAGS (\\Seen) MODSEQ (11))\r\n"
                             "* 2 FETCH (UID 4 FLAGS () MODSEQ (12))\r\n"
                             "$T OK [READ-ONLY] done\r\n"}}));
    client.read_greeting();
    std::vector<std::uint32_t> handed;
    imap::QresyncParams q{UidValidity(7), ModSeq(10), {}};
    q.on_changed = [&](imap::FetchData& f) { handed.push_back(f.uid->value); };
    auto s = client.select("INBOX", true, q);
    CHECK(handed == std::vector<std::uint32_t>{3, 4});
    CHECK(s.changed.empty());
    CHECK(s.highestmodseq->value == 20);
}

TEST_CASE("a failing body sink or handler ends the connection, never desynchronises it") {
    struct FullDisk : wire::LiteralSink {
        void write(std::string_view) override { throw std::runtime_error("No space left on device"); }
        void finish() override {}
    };
    for (bool sink_fails : {true, false}) {
        Client client(scripted("* PREAUTH hi\r\n",
                               {{"UID FETCH", "* 1 FETCH (UID 5 BODY[] {5}\r\nhello)\r\n$T OK\r\n"},
                                {"NOOP", "$T OK\r\n"}}));
        client.read_greeting();
        FullDisk sink;
        if (sink_fails) client.set_body_sink_factory([&](std::string_view, std::uint64_t) { return &sink; });
        UidSet one;
        one.add(Uid(5));
        auto handler = [&](imap::FetchData&) { throw std::runtime_error("catalog is read-only"); };
        try {
            client.uid_fetch(one, imap::FetchItems().uid().body_peek(), handler);
            FAIL("no exception");
        } catch (const imap::Abort& e) {
            CHECK(std::string(e.what()).find(sink_fails ? "No space left" : "read-only") != std::string::npos);
        }
        CHECK_THROWS_AS(client.noop(), imap::Abort);
    }
}

TEST_CASE("MULTIAPPEND sends every message in one command and maps APPENDUID's set") {
    auto log = std::make_shared<std::string>();
    std::string tag;
    auto stream = std::make_unique<transport::ScriptedStream>(
        "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ MULTIAPPEND UIDPLUS] hi\r\n",
        [&](const std::string& in) -> std::string {
            *log += in;
            if (tag.empty()) tag = in.substr(0, in.find(' '));
            if (log->find("two\r\n\r\n") != std::string::npos) return tag + " OK [APPENDUID 7 20:21] done\r\n";
            return "";
        });
    Client client(std::move(stream));
    client.read_greeting();
    std::vector<imap::AppendMessage> batch{{{"\\Seen"}, std::string("01-Jan-2024 10:00:00 +0000"), "one\r\n"},
                                           {{}, std::nullopt, "two\r\n"}};
    auto results = client.finish_multiappend(client.submit_multiappend("Box", std::move(batch)), 2);
    CHECK(*log == tag + " APPEND Box (\\Seen) \"01-Jan-2024 10:00:00 +0000\" {5+}\r\none\r\n {5+}\r\ntwo\r\n\r\n");
    REQUIRE(results.size() == 2);
    CHECK(results[0].uid->value == 20);
    CHECK(results[1].uid->value == 21);
    CHECK(results[1].uidvalidity->value == 7);
}

TEST_CASE("OAuth mechanisms build the documented messages") {
    // XOAUTH2: "user=" {User} "^Aauth=Bearer " {token} "^A^A"
    auto x = imap::sasl_xoauth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
    CHECK(x->name() == "XOAUTH2");
    CHECK(*x->initial_response() ==
          "user=someuser@example.com\x01" "auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01");
    // RFC 7628 §4.1 example (host/port included), and the error acknowledgement.
    auto o = imap::sasl_oauthbearer("user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
                                    "server.example.com", 143);
    CHECK(*o->initial_response() ==
          "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
          "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01");
    o->respond("");  // the server's first (empty) challenge
    CHECK(*o->respond("{\"status\":\"invalid_token\"}") == "\x01");
    auto login = imap::sasl_login("me", "secret");
    CHECK(*login->respond("Username:") == "me");
    CHECK(*login->respond("Password:") == "secret");
    auto cram = imap::sasl_cram_md5("tim", "tanstaaftanstaaf");
    CHECK(*cram->respond("<1896.697170952@postoffice.reston.mci.net>") ==
          "tim b913a602c7eda7a495b4e6e7334d3890");
}

TEST_CASE("OAUTHBEARER escapes the GS2 authzid: , as =2C and = as =3D", "[sasl]") {
    // RFC 5801 §4: saslname = 1*(UTF8-char-safe / "=2C" / "=3D"); RFC 7628 §3.1
    // uses it for the user in "n,a=USER,". An unescaped comma would end the
    // GS2 header early and the server would read the rest as the next field.
    struct Case {
        const char* user;
        const char* gs2_user;
    };
    const Case cases[] = {
        {"user@example.com", "user@example.com"},
        {"a,b", "a=2Cb"},
        {"a=b", "a=3Db"},
        {"=,", "=3D=2C"},
        {",,==", "=2C=2C=3D=3D"},
        {"=2C", "=3D2C"},  // an escape in the name is escaped itself
        {"\xC3\xBC" "ber,x", "\xC3\xBC" "ber=2Cx"},
    };
    for (const auto& c : cases) {
        INFO(c.user);
        auto o = imap::sasl_oauthbearer(c.user, "T", "", 0);
        CHECK(*o->initial_response() == std::string("n,a=") + c.gs2_user + ",\x01" "auth=Bearer T\x01\x01");
    }
    // XOAUTH2 has no GS2 header: the user goes as it is.
    CHECK(*imap::sasl_xoauth2("a,b=c", "T")->initial_response() == "user=a,b=c\x01" "auth=Bearer T\x01\x01");
}
