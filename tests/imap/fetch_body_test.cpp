// One decision for "this FETCH literal is a message body": the sink chooser
// and the typed FETCH result must agree on every form of the attribute.
#include "imap/fetch_body.hpp"

#include <catch2/catch.hpp>
#include <imapkeep/imap/client.hpp>

#include "imap/scripted_server.hpp"

using namespace imapkeep;
using imap::Client;
using imapkeep::testing::scripted;
using imapkeep::testing::VectorSink;

namespace {

struct Case {
    std::string att;  // as the server sends it, before " {5}"
    bool body;
} const kCases[] = {
    {"BODY[]", true},        {"body[]", true},
    {"BODY[]<0>", true},     {"BINARY[]", true},
    {"BINARY[]<10>", true},  {"RFC822", true},
    {"rfc822", true},        {"BODY[TEXT]", false},
    {"BODY[HEADER]", false}, {"RFC822.HEADER", false},
    {"RFC822.TEXT", false},  {"BODY[1]", false},
    {"BINARY[1]", false},    {"BODY[HEADER.FIELDS (MESSAGE-ID)]", false},
};

}  // namespace

TEST_CASE("is_body_att and is_body_literal give one answer", "[imap][fetch]") {
    for (const auto& c : kCases) {
        INFO(c.att);
        CHECK(imap::is_body_att(c.att) == c.body);
        CHECK(imap::is_body_literal("* 1 FETCH (UID 3 " + c.att + " {5}") == c.body);
        CHECK(imap::is_body_literal("* 1 FETCH (" + c.att + " ~{5}") == c.body);
    }
    CHECK_FALSE(imap::is_body_literal("K1 OK BODY[] {5}"));
    CHECK_FALSE(imap::is_body_literal("* LIST () \"/\" {5}"));
}

TEST_CASE("a body literal reaches the sink and the result points at it; others are buffered",
          "[imap][fetch]") {
    for (const auto& c : kCases) {
        for (const char* marker : {"{5}", "~{5}"}) {
            INFO(c.att << " " << marker);
            Client client(scripted("* PREAUTH hi\r\n",
                                   {{"UID FETCH", "* 1 FETCH (UID 3 " + c.att + " " + marker +
                                                      "\r\nhello)\r\n$T OK\r\n"}}));
            client.read_greeting();
            VectorSink sink;
            int chosen = 0;
            client.set_body_sink_factory([&](std::string_view, std::uint64_t) {
                ++chosen;
                return &sink;
            });
            std::vector<imap::FetchData> got;
            UidSet one;
            one.add(Uid(3));
            client.uid_fetch(one, imap::FetchItems().uid().body_peek(),
                             [&](imap::FetchData& d) { got.push_back(d); });
            REQUIRE(got.size() == 1);
            CHECK(got[0].has_body == c.body);
            CHECK(chosen == (c.body ? 1 : 0));
            if (c.body) {
                CHECK(got[0].body_sink == &sink);
                CHECK(sink.data == "hello");
                CHECK(sink.finished);
            } else {
                CHECK(got[0].body_sink == nullptr);
                REQUIRE(got[0].sections.size() == (c.att.starts_with("BODY[") ? 1u : 0u));
                if (!got[0].sections.empty()) CHECK(got[0].sections[0].second == "hello");
            }
        }
    }
}

TEST_CASE("the literal sink factory gets every literal, before the body sink factory", "[imap][fetch]") {
    for (const auto& c : kCases) {
        INFO(c.att);
        Client client(scripted("* PREAUTH hi\r\n",
                               {{"UID FETCH", "* 1 FETCH (UID 3 " + c.att + " {5}\r\nhello)\r\n$T OK\r\n"},
                                {"LIST", "* LIST () \"/\" {3}\r\nbox\r\n$T OK\r\n"}}));
        client.read_greeting();
        VectorSink sink;
        std::vector<std::string> seen;
        int body_chosen = 0;
        client.set_body_sink_factory([&](std::string_view, std::uint64_t) {
            ++body_chosen;
            return static_cast<wire::LiteralSink*>(nullptr);
        });
        client.set_literal_sink_factory([&](std::string_view so_far, std::uint64_t size) {
            seen.push_back(std::string(so_far) + "/" + std::to_string(size));
            return &sink;
        });
        UidSet one;
        one.add(Uid(3));
        client.uid_fetch(one, imap::FetchItems().uid().body_peek(), [](imap::FetchData&) {});
        client.run("LIST", {wire::Arg::string(""), wire::Arg::string("*")}, [](const wire::Response&, const wire::Frame&) { return true; });
        CHECK(seen == std::vector<std::string>{"* 1 FETCH (UID 3 " + c.att + " {5}/5", "* LIST () \"/\" {3}/3"});
        CHECK(sink.data == "hellobox");
        CHECK(body_chosen == 0);
    }
}
