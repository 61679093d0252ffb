// Invariant 4 (DESIGN.md): nothing the server sends decides how much memory is
// used. UID sets from the server stay ranges on every parser path.
#include <catch2/catch.hpp>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/transport/fault.hpp>

#include "imap/scripted_server.hpp"
#include "largest_allocation.hpp"

using namespace imapkeep;
using imap::Client;
using imapkeep::testing::g_largest_allocation;
using imapkeep::testing::kCountsAllocations;
using imapkeep::testing::scripted;

namespace {

constexpr std::size_t kBound = 1 << 20;  // far below any expansion of the sets used here

// The sets a hostile or broken server may send: small text, huge membership.
const char* const kHugeSets[] = {"1:50000000", "1:4294967295", "4294967295:1,7"};

}  // namespace

TEST_CASE("ESEARCH ALL stays ranges whatever it claims", "[imap][invariant4]") {
    for (const char* set : kHugeSets) {
        INFO(set);
        Client client(scripted("* PREAUTH [CAPABILITY IMAP4rev1 ESEARCH] hi\r\n",
                               {{"UID SEARCH", std::string("* ESEARCH (TAG \"$T\") UID ALL ") +
                                                   set + " COUNT 3\r\n$T OK\r\n"}}));
        client.read_greeting();
        g_largest_allocation = 0;
        auto found = client.uid_search("ALL", true);
        if (kCountsAllocations) CHECK(g_largest_allocation.load() < kBound);
        CHECK(found.uids == UidSet::parse(set));
        CHECK(found.uids.contains(Uid(7)));
    }
}

TEST_CASE("plain SEARCH results land in the same UidSet", "[imap][invariant4]") {
    Client client(scripted("* PREAUTH hi\r\n",
                           {{"UID SEARCH", "* SEARCH 7 3 4 5 9 (MODSEQ 12)\r\n$T OK\r\n"}}));
    client.read_greeting();
    auto found = client.uid_search("ALL");
    CHECK(found.uids.to_string() == "3:5,7,9");
    CHECK(found.modseq->value == 12);
}

TEST_CASE("a SEARCH reply with UID 0 ends the connection", "[imap][invariant4]") {
    Client client(scripted("* PREAUTH hi\r\n", {{"UID SEARCH", "* SEARCH 3 0\r\n$T OK\r\n"}}));
    client.read_greeting();
    CHECK_THROWS_AS(client.uid_search("ALL"), imap::Abort);
}

TEST_CASE("VANISHED (EARLIER) stays ranges", "[imap][invariant4]") {
    for (const char* set : kHugeSets) {
        INFO(set);
        Client client(
            scripted("* PREAUTH hi\r\n",
                     {{"EXAMINE", std::string("* OK [UIDVALIDITY 9] ok\r\n* VANISHED (EARLIER) ") +
                                      set + "\r\n$T OK [READ-ONLY] done\r\n"}}));
        client.read_greeting();
        g_largest_allocation = 0;
        auto s = client.select("INBOX", true, imap::QresyncParams{UidValidity(9), ModSeq(1), {}});
        if (kCountsAllocations) CHECK(g_largest_allocation.load() < kBound);
        CHECK(s.vanished == UidSet::parse(set));
    }
}

TEST_CASE("APPENDUID never expands past the batch it answers", "[imap][invariant4]") {
    struct Case {
        std::string code_set;
        bool uids_given;
    } cases[] = {
        {"20:22", true},       {"22:20", true},  {"1:4294967295", false},
        {"1:50000000", false}, {"20:21", false}, {"20:23", false},
    };
    for (const auto& c : cases) {
        INFO(c.code_set);
        std::string tag;
        std::string sent;
        auto stream = std::make_unique<transport::ScriptedStream>(
            "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ MULTIAPPEND UIDPLUS] hi\r\n",
            [&](const std::string& in) -> std::string {
                sent += in;
                if (tag.empty()) tag = sent.substr(0, sent.find(' '));
                if (sent.find("three\r\n\r\n") == std::string::npos) return "";
                return tag + " OK [APPENDUID 7 " + c.code_set + "] done\r\n";
            });
        Client client(std::move(stream));
        client.read_greeting();
        std::vector<imap::AppendMessage> batch{{{}, std::nullopt, "one\r\n"},
                                               {{}, std::nullopt, "two\r\n"},
                                               {{}, std::nullopt, "three\r\n"}};
        g_largest_allocation = 0;
        auto results =
            client.finish_multiappend(client.submit_multiappend("Box", std::move(batch)), 3);
        if (kCountsAllocations) CHECK(g_largest_allocation.load() < kBound);
        REQUIRE(results.size() == 3);
        for (std::size_t i = 0; i < 3; ++i) {
            CHECK(results[i].uid.has_value() == c.uids_given);
            if (c.uids_given) CHECK(results[i].uid->value == 20 + i);
        }
    }
}
