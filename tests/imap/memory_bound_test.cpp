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
        auto found = client.uid_search(imap::SearchKey::all(), true);
        if (kCountsAllocations) CHECK(g_largest_allocation.load() < kBound);
        CHECK(found.uids == UidSet::parse(set));
        CHECK(found.uids.contains(Uid(7)));
    }
}

TEST_CASE("plain SEARCH results land in the same UidSet", "[imap][invariant4]") {
    Client client(scripted("* PREAUTH hi\r\n",
                           {{"UID SEARCH", "* SEARCH 7 3 4 5 9 (MODSEQ 12)\r\n$T OK\r\n"}}));
    client.read_greeting();
    auto found = client.uid_search(imap::SearchKey::all());
    CHECK(found.uids.to_string() == "3:5,7,9");
    CHECK(found.modseq->value == 12);
}

TEST_CASE("a SEARCH reply with UID 0 fails the search", "[imap][invariant4]") {
    Client client(scripted("* PREAUTH hi\r\n", {{"UID SEARCH", "* SEARCH 3 0\r\n$T OK\r\n"}}));
    client.read_greeting();
    try {
        client.uid_search(imap::SearchKey::all());
        FAIL("accepted");
    } catch (const imap::Abort&) {
        FAIL("the frame was whole: only the command fails");
    } catch (const imap::CommandFailed& e) {
        CHECK(e.malformed());
    }
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

// --- Huge announcements (issue 9, case B): each a clean Abort, memory flat ---

namespace {

using imapkeep::testing::LazyStream;

constexpr std::size_t kLineBound = 4 << 20;  // max_line (1 MiB) and its string's growth
constexpr std::uint64_t kGiB = 1ull << 30;

const char* const kHugeLiterals[] = {"{18446744073709551615}", "{18446744073709551616}",
                                     "{99999999999999999999999}", "~{18446744073709551615}"};

UidSet one_uid() {
    UidSet set;
    set.add(Uid(1));
    return set;
}

}  // namespace

TEST_CASE("a literal announced beyond 2^64 is an Abort that allocates nothing", "[imap][invariant4][huge]") {
    for (const char* size : kHugeLiterals) {
        for (bool with_sink : {false, true}) {
            INFO(size << (with_sink ? " to a sink" : " buffered"));
            Client client(scripted("* PREAUTH hi\r\n",
                                   {{"UID FETCH", std::string("* 1 FETCH (UID 1 BODY[] ") + size + "\r\nxyz"}}));
            client.read_greeting();
            testing::VectorSink sink;
            if (with_sink) client.set_body_sink_factory([&](std::string_view, std::uint64_t) { return &sink; });
            g_largest_allocation = 0;
            CHECK_THROWS_AS(client.uid_fetch(one_uid(), imap::FetchItems().body_peek(), [](imap::FetchData&) {}), imap::Abort);
            if (kCountsAllocations) CHECK(g_largest_allocation.load() < kBound);
            CHECK(sink.data.empty());  // not one byte of it was taken as a literal
            CHECK(client.pending() == 0);
        }
        INFO(size << " in the greeting");
        Client greeted(scripted(std::string("* OK ") + size + "\r\nxyz", {}));
        g_largest_allocation = 0;
        CHECK_THROWS_AS(greeted.read_greeting(), imap::Abort);
        if (kCountsAllocations) CHECK(g_largest_allocation.load() < kBound);
    }
}

TEST_CASE("a line without end is an Abort after max_line bytes, memory flat", "[imap][invariant4][huge]") {
    const std::string heads[] = {"* 1 FETCH (UID 1 FLAGS (", "* 1 FETCH (UID 1 BODY[] \"", "* SEARCH 1 2 3 "};
    for (const auto& head : heads) {
        INFO(head);
        auto stream = std::make_unique<LazyStream>("* PREAUTH hi\r\n", std::vector<testing::Rule>{}, "UID FETCH",
                                                   LazyStream::Endless{head, kGiB, '7', ""});
        auto* lazy = stream.get();
        Client client(std::move(stream));
        client.read_greeting();
        g_largest_allocation = 0;
        CHECK_THROWS_AS(client.uid_fetch(one_uid(), imap::FetchItems().flags(), [](imap::FetchData&) {}), imap::Abort);
        if (kCountsAllocations) CHECK(g_largest_allocation.load() < kLineBound);
        CHECK(lazy->served() < 2 * kLineBound);  // it stopped reading
        CHECK(client.pending() == 0);
    }
    // As the greeting, with nothing in flight: a plain Error (imaplib's
    // `error`), and no hang.
    auto stream = std::make_unique<LazyStream>("* OK ", std::vector<testing::Rule>{}, "",
                                               LazyStream::Endless{"", kGiB, 'g', ""});
    auto* lazy = stream.get();
    Client client(std::move(stream));
    g_largest_allocation = 0;
    CHECK_THROWS_AS(client.read_greeting(), imap::Error);
    if (kCountsAllocations) CHECK(g_largest_allocation.load() < kLineBound);
    CHECK(lazy->served() < 2 * kLineBound);
}

TEST_CASE("lists nested 10,000 deep are an Abort, not a stack overflow", "[imap][invariant4][huge]") {
    const std::string deep = std::string(10000, '(') + std::string(10000, ')');
    const std::string replies[] = {
        "* 1 FETCH (UID 1 X " + deep + ")\r\n$T OK done\r\n",
        "* 1 FETCH " + deep + "\r\n$T OK done\r\n",
        "* 1 FETCH (UID 1 BODYSTRUCTURE " + deep + ")\r\n$T OK done\r\n",
        "* XYZZY " + deep + "\r\n$T OK done\r\n",
        "* OK [XYZZY " + deep + "] hi\r\n$T OK done\r\n",
    };
    for (const auto& reply : replies) {
        INFO(reply.substr(0, 40));
        Client client(scripted("* PREAUTH hi\r\n", {{"UID FETCH", reply}, {"NOOP", "$T OK\r\n"}}));
        client.read_greeting();
        g_largest_allocation = 0;
        bool aborted = false;
        try {
            client.uid_fetch(one_uid(), imap::FetchItems().flags(), [](imap::FetchData&) {});
        } catch (const imap::Abort& e) {
            aborted = true;
            CHECK(std::string(e.what()).find("nested") != std::string::npos);
        }
        // A response code's data is not needed: it may be kept as text.
        if (reply.starts_with("* OK")) CHECK_FALSE(aborted);
        else CHECK(aborted);
        if (kCountsAllocations) CHECK(g_largest_allocation.load() < kBound);
    }
}
