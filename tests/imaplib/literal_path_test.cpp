// The literal path of the imaplib face (issue 10, scenario 6): every literal
// comes from one read(size) call, as CPython's _get_response makes it, and
// reaches the result without a detour through the client's framer. These
// tests hold the face to CPython's shapes however the server's bytes are cut,
// and to read() staying the one way literal bytes come in.
// Before Catch2: its CHECK macro would rewrite IMAP4::CHECK().
#include <imapkeep/imaplib.hpp>
#include <imapkeep/transport/fault.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "heap_counters.hpp"
#include "imap/scripted_server.hpp"
#include "imaplib/stream_imap4.hpp"

namespace {

using imaplib::Datum;
using imaplib::IMAP4;
using Pair = std::pair<std::string, std::string>;

const std::string kGreeting = "* PREAUTH IMAP4rev1 hi\r\n";

imapkeep::transport::StreamPtr server(const std::string& fetch_reply, std::size_t max_chunk) {
    using imapkeep::testing::Rule;
    const std::vector<Rule> rules = {
        {"CAPABILITY", "* CAPABILITY IMAP4rev1\r\n$T OK done\r\n"},
        {"SELECT", "* 3 EXISTS\r\n$T OK [READ-WRITE] done\r\n"},
        {"UID FETCH", fetch_reply + "$T OK done\r\n"},
        {"LOGOUT", "* BYE bye\r\n$T OK done\r\n"},
    };
    // As scripted(), but with the server's bytes cut into max_chunk pieces.
    auto buffer = std::make_shared<std::string>();
    auto acked = std::make_shared<bool>(false);
    return std::make_unique<imapkeep::transport::ScriptedStream>(
        kGreeting,
        [rules, buffer, acked](const std::string& in) {
            *buffer += in;
            std::string out;
            std::size_t length;
            while ((length = imapkeep::testing::whole_command(*buffer, *acked, out)) != 0) {
                std::string line = buffer->substr(0, buffer->find("\r\n"));
                buffer->erase(0, length);
                auto sp = line.find(' ');
                std::string tag = line.substr(0, sp);
                std::string rest = line.substr(sp + 1);
                for (const auto& r : rules) {
                    if (rest.rfind(r.command, 0) != 0) continue;
                    std::string reply = r.reply;
                    for (std::size_t at; (at = reply.find("$T")) != std::string::npos;)
                        reply.replace(at, 2, tag);
                    out += reply;
                    break;
                }
            }
            return out;
        },
        max_chunk);
}

// Records every read() the engine makes, and marks what it returns, so that
// a result built from anything but the override's bytes shows.
class RecordingRead : public imaplib_test::StreamIMAP4 {
  public:
    using StreamIMAP4::StreamIMAP4;
    std::string read(std::size_t size) override {
        sizes.push_back(size);
        std::string got = IMAP4::read(size);
        std::transform(got.begin(), got.end(), got.begin(),
                       [](char c) { return c == 'x' ? 'X' : c; });
        return got;
    }
    std::vector<std::size_t> sizes;
};

struct Case {
    const char* name;
    std::string reply;        // the untagged part of UID FETCH's answer
    std::vector<Datum> data;  // uid()'s data, as CPython gives it
};

std::vector<Case> cases() {
    using namespace std::string_literals;
    const std::string big(200000, 'b');
    return {
        {"one literal",
         "* 1 FETCH (UID 7 BODY[] {5}\r\nhello)\r\n",
         {Pair{"1 (UID 7 BODY[] {5}", "hello"}, std::string(")")}},
        {"a literal of 0 bytes",
         "* 1 FETCH (UID 7 BODY[] {0}\r\n)\r\n",
         {Pair{"1 (UID 7 BODY[] {0}", ""}, std::string(")")}},
        {"a literal ending in CRLF, the next response right after it",
         "* 1 FETCH (BODY[] {5}\r\na\r\n\r\n)\r\n* 2 FETCH (BODY[] {3}\r\nxyz)\r\n",
         {Pair{"1 (BODY[] {5}", "a\r\n\r\n"}, std::string(")"), Pair{"2 (BODY[] {3}", "xyz"},
          std::string(")")}},
        {"two literals in one response, one not a body",
         "* 1 FETCH (BODY[HEADER] {3}\r\nabc BODY[] {2}\r\nxy)\r\n",
         {Pair{"1 (BODY[HEADER] {3}", "abc"}, Pair{" BODY[] {2}", "xy"}, std::string(")")}},
        {"a literal of binary bytes that look like markers",
         "* 1 FETCH (BODY[] {9}\r\n{3}\r\n\0\r\n))\r\n"s,
         {Pair{"1 (BODY[] {9}", std::string("{3}\r\n\0\r\n)", 9)}, std::string(")")}},
        {"a literal larger than any read",
         "* 1 FETCH (BODY[] {200000}\r\n" + big + ")\r\n",
         {Pair{"1 (BODY[] {200000}", big}, std::string(")")}},
    };
}

std::string upper_x(std::string s) {
    std::replace(s.begin(), s.end(), 'x', 'X');
    return s;
}

}  // namespace

TEST_CASE("literals give CPython's data however the bytes are cut", "[imaplib][literal]") {
    for (const auto& c : cases()) {
        for (std::size_t chunk :
             {std::size_t{1}, std::size_t{3}, std::size_t{7}, std::size_t{1} << 16}) {
            INFO(c.name << ", server bytes in pieces of " << chunk);
            imaplib_test::StreamIMAP4 M(server(c.reply, chunk));
            REQUIRE(M.select("INBOX").type == "OK");
            auto r = M.uid("FETCH", "1:*", "(BODY.PEEK[])");
            CHECK(r.type == "OK");
            CHECK(r.data == c.data);
            CHECK(M.logout().type == "BYE");
        }
    }
}

TEST_CASE("an overridden read() gets each literal whole, once, and its bytes are the result",
          "[imaplib][literal]") {
    // CPython: `data = self.read(size)`, one call per literal, 0 included.
    for (const auto& c : cases()) {
        INFO(c.name);
        auto stream = server(c.reply, 7);
        RecordingRead M(std::move(stream));
        REQUIRE(M.select("INBOX").type == "OK");
        auto r = M.uid("FETCH", "1:*", "(BODY.PEEK[])");
        std::vector<std::size_t> want;
        std::vector<Datum> expected;
        for (const auto& d : c.data) {
            if (const auto* p = std::get_if<Pair>(&d)) {
                want.push_back(p->second.size());
                expected.emplace_back(Pair{p->first, upper_x(p->second)});
            } else {
                expected.push_back(d);
            }
        }
        CHECK(M.sizes == want);
        CHECK(r.data == expected);
        CHECK(M.logout().type == "BYE");
    }
}

TEST_CASE("a large literal is not copied through the client's buffers", "[imaplib][literal]") {
    using imapkeep::testing::LazyStream;
    // Up to 512 KiB a body is allocated once, at its size. Past that its
    // string grows with the bytes that arrived (invariant 4), four-fold, so
    // at most the last smaller string is held next to it. A body copied into
    // a frame grown by doubling holds its size twice and more.
    const struct {
        std::size_t size;
        double bound;  // peak heap, in multiples of the size
    } cases[] = {{500000, 1.125}, {3 << 20, 1.75}};
    for (const auto& c : cases) {
        INFO("a literal of " << c.size << " bytes");
        auto stream = std::make_unique<LazyStream>(
            kGreeting,
            std::vector<imapkeep::testing::Rule>{
                {"CAPABILITY", "* CAPABILITY IMAP4rev1\r\n$T OK done\r\n"}},
            "NOOP",
            LazyStream::Endless{"* 1 FETCH (BODY[] {" + std::to_string(c.size) + "}\r\n", c.size,
                                'm', ")\r\n$T OK done\r\n"});
        imaplib_test::StreamIMAP4 M(std::move(stream));
        const std::size_t before = imapkeep::testing::reset_peak_heap();
        REQUIRE(M.noop().type == "OK");
        const std::size_t peak = imapkeep::testing::g_peak_bytes.load() - before;
        const auto& fetched = M.untagged_responses.at("FETCH");
        REQUIRE(fetched.size() == 2);
        CHECK(std::get<Pair>(fetched[0]).second == std::string(c.size, 'm'));
        if (imapkeep::testing::kCountsAllocations)
            CHECK(peak < c.bound * static_cast<double>(c.size));
    }
}

TEST_CASE("a body literal over the response budget is abort, memory flat", "[imaplib][literal]") {
    using imapkeep::testing::LazyStream;
    constexpr std::uint64_t kSize = 100 << 20;  // under max_literal, over max_buffered_response
    auto stream = std::make_unique<LazyStream>(
        kGreeting,
        std::vector<imapkeep::testing::Rule>{
            {"CAPABILITY", "* CAPABILITY IMAP4rev1\r\n$T OK done\r\n"}},
        "NOOP",
        LazyStream::Endless{"* 1 FETCH (BODY[] {" + std::to_string(kSize) + "}\r\n", kSize, 'm',
                            ")\r\n$T OK done\r\n"});
    auto* lazy = stream.get();
    imaplib_test::StreamIMAP4 M(std::move(stream));
    const std::size_t before = imapkeep::testing::reset_peak_heap();
    CHECK_THROWS_AS(M.noop(), IMAP4::abort);
    if (imapkeep::testing::kCountsAllocations)
        CHECK(imapkeep::testing::g_peak_bytes.load() - before < (8u << 20));
    CHECK(lazy->served() < (8u << 20));
}

TEST_CASE("a read() cut by a timeout gives its bytes back; the literal is read again whole",
          "[imaplib][literal]") {
    using imapkeep::transport::TransportError;
    // The server sends the FETCH, then half a literal, then nothing until
    // the client's read times out once, then the rest.
    const std::string lines = "* 1 FETCH (BODY[] {10}\r\n";
    int calls = 0;
    auto stream = std::make_unique<imapkeep::transport::ScriptedStream>(
        kGreeting, [&calls, lines](const std::string& in) -> std::string {
            ++calls;
            if (calls == 1) {
                const std::string tag = in.substr(0, in.find(' '));
                return "* CAPABILITY IMAP4rev1\r\n" + tag + " OK done\r\n";
            }
            if (calls == 2) return lines + "01234";
            if (calls == 3) throw TransportError(TransportError::Kind::Timeout, "timed out");
            return "56789)\r\n";
        });
    imaplib_test::StreamIMAP4 M(std::move(stream));
    // As idle() meets it: the engine's read times out mid-literal...
    CHECK(M.readline() == lines);
    CHECK_THROWS_AS(M.read(10), IMAP4::abort);
    // ...and nothing that arrived is lost.
    CHECK(M.read(10) == "0123456789");
    CHECK(M.readline() == ")\r\n");
}
