#include "wire/replay.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

using namespace imapkeep::wire;
using namespace imapkeep::wire::test;
using namespace std::string_literals;

// Tracks the largest single allocation, so a test can prove that an announced
// literal size never turns into an allocation.
#include "largest_allocation.hpp"
using imapkeep::testing::g_largest_allocation;
using imapkeep::testing::kCountsAllocations;

namespace {

Limits small_limits(std::size_t max_line, std::uint64_t max_literal, std::size_t max_response) {
    Limits limits;
    limits.max_line = max_line;
    limits.max_literal = max_literal;
    limits.max_buffered_response = max_response;
    return limits;
}

bool sink_body(std::string_view text, std::uint64_t) {
    return text.size() >= 9 && text.substr(text.rfind(' ') - 6, 6) == "BODY[]";
}

struct FramerCase {
    const char* name;
    std::string input;
    Limits limits;
    SinkPolicy policy;
    std::vector<std::string> expected;
};

std::vector<FramerCase> framer_cases() {
    const Limits defaults;
    return {
        {"one line", "* OK hi\r\n", defaults, {}, {"frame * OK hi\r\n", "buffered 0"}},
        {"two responses in one read", "* 3 EXISTS\r\na1 OK done\r\n", defaults, {},
         {"frame * 3 EXISTS\r\n", "frame a1 OK done\r\n", "buffered 0"}},
        {"partial line stays buffered", "a1 OK done\r\n* injected", defaults, {},
         {"frame a1 OK done\r\n", "buffered 10"}},
        {"CR alone inside a line is data", "* OK a\rb\r\n", defaults, {}, {"frame * OK a\rb\r\n", "buffered 0"}},
        {"empty line is a frame", "\r\n", defaults, {}, {"frame \r\n", "buffered 0"}},
        {"literal BODY[] buffered", "* 1 FETCH (BODY[] {5}\r\nhe\r\no)\r\n", defaults, {},
         {"frame * 1 FETCH (BODY[] {5}\r\nhe\r\no)\r\n [5]", "buffered 0"}},
        {"literal8", "* 1 FETCH (BINARY[] ~{3}\r\na\0b)\r\n"s, defaults, {},
         {"frame * 1 FETCH (BINARY[] ~{3}\r\na\0b)\r\n [3 binary]"s, "buffered 0"}},
        {"literal+ marker tolerated", "* LIST () \"/\" {3+}\r\nabc\r\n", defaults, {},
         {"frame * LIST () \"/\" {3+}\r\nabc\r\n [3]", "buffered 0"}},
        {"empty literal", "* LIST () \"/\" {0}\r\n\r\n", defaults, {},
         {"frame * LIST () \"/\" {0}\r\n\r\n [0]", "buffered 0"}},
        {"two literals in one response",
         "* 2 FETCH (BODY[HEADER] {4}\r\nH\r\n\r BODY[TEXT] {2}\r\nT\n)\r\n* 3 EXISTS\r\n", defaults, {},
         {"frame * 2 FETCH (BODY[HEADER] {4}\r\nH\r\n\r BODY[TEXT] {2}\r\nT\n)\r\n [4] [2]",
          "frame * 3 EXISTS\r\n", "buffered 0"}},
        {"{5} inside a quoted string is no literal", "* OK \"x {5}\r\n* 1 EXISTS\r\n", defaults, {},
         {"frame * OK \"x {5}\r\n", "frame * 1 EXISTS\r\n", "buffered 0"}},
        {"escaped quote keeps the string open", "* X \"a\\\" {5}\r\n", defaults, {},
         {"frame * X \"a\\\" {5}\r\n", "buffered 0"}},
        {"escaped backslash closes the string", "* X \"a\\\\\" {2}\r\nab\r\n", defaults, {},
         {"frame * X \"a\\\\\" {2}\r\nab\r\n [2]", "buffered 0"}},
        {"segment after a literal starts outside quotes", "* X {1}\r\n\" {2}\r\nab\r\n", defaults, {},
         {"frame * X {1}\r\n\" {2}\r\nab\r\n [1] [2]", "buffered 0"}},
        {"marker not at the end of the line", "* OK {5} later\r\n", defaults, {},
         {"frame * OK {5} later\r\n", "buffered 0"}},
        {"not a marker without digits", "* OK {}\r\n* OK {+}\r\n", defaults, {},
         {"frame * OK {}\r\n", "frame * OK {+}\r\n", "buffered 0"}},
        {"literal to a sink", "* 3 FETCH (UID 7 BODY[] {6}\r\nab\r\ncd)\r\n", defaults, sink_body,
         {"choose * 3 FETCH (UID 7 BODY[] {6} 6", "frame * 3 FETCH (UID 7 BODY[] {6}\r\n)\r\n [6 sink]",
          "buffered 0"}},
        {"chooser sees earlier lines, literals elided",
         "* 3 FETCH (BODY[HEADER] {2}\r\nhh BODY[] {3}\r\nbbb)\r\n", defaults, sink_body,
         {"choose * 3 FETCH (BODY[HEADER] {2} 2", "choose * 3 FETCH (BODY[HEADER] {2} BODY[] {3} 3",
          "frame * 3 FETCH (BODY[HEADER] {2}\r\nhh BODY[] {3}\r\n)\r\n [2] [3 sink]", "buffered 0"}},
        {"bare LF", "* OK a\r\n* OK b\n* OK c\r\n", defaults, {},
         {"frame * OK a\r\n", "error BareLf@14 fatal"}},
        {"bare LF on an empty line", "\n", defaults, {}, {"error BareLf@0 fatal"}},
        {"bare LF after a literal", "* X {1}\r\na\n", defaults, {}, {"error BareLf@10 fatal"}},
        {"line of exactly max_line", "* OK 12345\r\n", small_limits(10, 100, 1000), {},
         {"frame * OK 12345\r\n", "buffered 0"}},
        {"line one over max_line, then resync", "* OK 123456\r\n* OK ok\r\n", small_limits(10, 100, 1000), {},
         {"error LineTooLong@11", "frame * OK ok\r\n", "buffered 0"}},
        {"long line dropped with its partial response",
         "* 1 FETCH (BODY[] {2}\r\nab UID 12345678901234567890)\r\n* 2 EXISTS\r\n", small_limits(22, 100, 1000), {},
         {"error LineTooLong@48", "frame * 2 EXISTS\r\n", "buffered 0"}},
        {"literal at max_literal", "* X {4}\r\nabcd\r\n", small_limits(100, 4, 1000), {},
         {"frame * X {4}\r\nabcd\r\n [4]", "buffered 0"}},
        {"literal over max_literal", "* X {5}\r\nabcde\r\n", small_limits(100, 4, 1000), {},
         {"error LiteralTooLarge@8 fatal"}},
        {"literal over max_literal even to a sink", "* 1 FETCH (BODY[] {5}\r\nabcde)\r\n",
         small_limits(100, 4, 1000), sink_body, {"error LiteralTooLarge@22 fatal"}},
        {"2^63-1 announced", "* 1 FETCH (BODY[] {9223372036854775807}\r\n", defaults, {},
         {"error LiteralTooLarge@40 fatal"}},
        {"size beyond 63 bits", "* X {99999999999999999999999}\r\n", defaults, {},
         {"error LiteralTooLarge@30 fatal"}},
        {"buffered literal over the response limit", "* 1 FETCH (BODY[] {30}\r\n",
         small_limits(100, 100, 40), {}, {"error ResponseTooLarge@23 fatal"}},
        {"sink literal not counted in the response limit", "* 1 FETCH (BODY[] {30}\r\n012345678901234567890123456789)\r\n",
         small_limits(100, 100, 40), sink_body,
         {"choose * 1 FETCH (BODY[] {30} 30", "frame * 1 FETCH (BODY[] {30}\r\n)\r\n [30 sink]", "buffered 0"}},
        {"lines over the response limit", "* X {1}\r\na 0123456789 {1}\r\nb 0123456789\r\n",
         small_limits(100, 100, 30), {}, {"error ResponseTooLarge@34 fatal"}},
    };
}

}  // namespace

TEST_CASE("Framer: every case gives the same events however the input is split", "[framer]") {
    for (const auto& c : framer_cases()) {
        for (const auto& split : all_splits(c.input)) {
            INFO(c.name << ", " << describe_split(split));
            const Replay r = replay(split, c.limits, c.policy);
            CHECK(r.log() == c.expected);
            for (const auto& sink : r.sinks) {
                CHECK(sink.finish_calls == 1);
                CHECK_FALSE(sink.write_after_finish);
            }
        }
    }
}

TEST_CASE("Framer: a sink receives the literal's exact bytes in chunks", "[framer]") {
    const std::string body = "From: a@b\r\n\r\nline \"{5}\"\r\n\0\xff"s;
    const std::string input = "* 3 FETCH (UID 7 BODY[] {" + std::to_string(body.size()) + "}\r\n" + body +
                              " FLAGS (\\Seen))\r\n";
    for (const auto& split : all_splits(input)) {
        INFO(describe_split(split));
        const Replay r = replay(split, {}, sink_body);
        REQUIRE(r.sinks.size() == 1);
        const RecordingSink& sink = r.sinks.front();
        CHECK(sink.data == body);
        CHECK(sink.finish_calls == 1);
        std::size_t total = 0;
        for (std::size_t n : sink.chunk_sizes) {
            CHECK(n > 0);
            total += n;
        }
        CHECK(total == body.size());
        if (split.size() > 2) CHECK(sink.chunk_sizes.size() == body.size());  // one byte per feed
        REQUIRE(r.frames.size() == 1);
        CHECK(r.frames[0].literals[0].data.empty());
        CHECK(r.frames[0].lines[1] == " FLAGS (\\Seen))");
    }
}

TEST_CASE("Framer: an announced size decides no allocation", "[framer]") {
    // Accepted by the limits, yet larger than any allocation the framer makes.
    Limits limits;
    limits.max_literal = 1ull << 40;
    limits.max_buffered_response = std::size_t{1} << 41;
    Framer framer(limits);
    g_largest_allocation = 0;
    CHECK_FALSE(framer.feed("* 1 FETCH (BODY[] {549755813888}\r\nabc"));
    if (kCountsAllocations) CHECK(g_largest_allocation.load() <= 128 * 1024);
    CHECK_FALSE(framer.has_frame());
    CHECK(framer.buffered() == 37);

    // Refused at the marker's CRLF, with no more input needed.
    Framer strict;
    g_largest_allocation = 0;
    const auto error = strict.feed("* 1 FETCH (BODY[] {9223372036854775807}\r\n");
    REQUIRE(error);
    CHECK(error->kind == FrameError::Kind::LiteralTooLarge);
    CHECK(error->fatal);
    if (kCountsAllocations) CHECK(g_largest_allocation.load() <= 4096);
}

TEST_CASE("Framer: errors stick until resync, and resync only clears non-fatal ones", "[framer]") {
    Framer fatal;
    REQUIRE(fatal.feed("* OK\n"));
    fatal.resync();
    const auto again = fatal.feed("* OK\r\n");
    REQUIRE(again);
    CHECK(again->kind == FrameError::Kind::BareLf);
    CHECK_FALSE(fatal.has_frame());

    Limits limits;
    limits.max_line = 10;
    Framer soft(limits);
    const auto error = soft.feed("* OK long line\r\n* 1 EXISTS\r\n");
    REQUIRE(error);
    CHECK(error->kind == FrameError::Kind::LineTooLong);
    CHECK_FALSE(error->fatal);
    CHECK(error->offset == 11);
    const auto same = soft.feed("ignored");
    REQUIRE(same);
    CHECK(same->kind == error->kind);
    CHECK(same->offset == error->offset);
    CHECK(soft.buffered() > 0);  // the kept bytes
    CHECK_FALSE(soft.has_frame());
    soft.resync();
    CHECK_FALSE(soft.feed(""));
    auto frame = soft.next();
    REQUIRE(frame);
    CHECK(frame->lines == std::vector<std::string>{"* 1 EXISTS"});
    CHECK(soft.buffered() == 0);
}

TEST_CASE("find_literal_marker", "[framer]") {
    struct Row {
        const char* line;
        bool found;
        std::uint64_t size;
        bool binary;
        bool overflow;
        std::size_t start;
    };
    const Row rows[] = {
        {"* 1 FETCH (BODY[] {12}", true, 12, false, false, 18},
        {"{0}", true, 0, false, false, 0},
        {"A APPEND x {310+}", true, 310, false, false, 11},
        {"* 1 FETCH (BINARY[] ~{7}", true, 7, true, false, 20},
        {"x {007}", true, 7, false, false, 2},
        {"x {9223372036854775807}", true, 9223372036854775807ull, false, false, 2},
        {"x {9223372036854775808}", true, UINT64_MAX, false, true, 2},
        {"x \"a\" {3}", true, 3, false, false, 6},
        {"x \"{3}", false, 0, false, false, 0},
        {"x \"\\\"{3}", false, 0, false, false, 0},
        {"x {3} ", false, 0, false, false, 0},
        {"x {a}", false, 0, false, false, 0},
        {"x {}", false, 0, false, false, 0},
        {"x 3}", false, 0, false, false, 0},
        {"}", false, 0, false, false, 0},
        {"", false, 0, false, false, 0},
    };
    for (const Row& row : rows) {
        INFO(row.line);
        const auto marker = find_literal_marker(row.line);
        REQUIRE(marker.has_value() == row.found);
        if (!marker) continue;
        CHECK(marker->size == row.size);
        CHECK(marker->binary == row.binary);
        CHECK(marker->overflow == row.overflow);
        CHECK(marker->start == row.start);
    }
}

TEST_CASE("Frame::flatten restores CRLFs and buffered literals", "[framer]") {
    Frame frame;
    frame.lines = {"* 1 FETCH (BODY[] {3}", ")"};
    frame.literals.push_back({3, false, nullptr, "a\r\n"});
    CHECK(frame.flatten() == "* 1 FETCH (BODY[] {3}\r\na\r\n)\r\n");
}

TEST_CASE("Frame::offset is where the frame began, however the input is split", "[framer]") {
    // A reply is told from bytes that were already there before its command
    // went out by this offset (imap::Client, STARTTLS injection).
    const std::string input = "* OK hi\r\n* 1 FETCH (BODY[] {3}\r\nabc)\r\nK1 OK done\r\n";
    const std::vector<std::uint64_t> expected{0, 9, 38};
    for (const auto& split : all_splits(input)) {
        INFO(describe_split(split));
        const Replay r = replay(split);
        REQUIRE(r.frames.size() == expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i) CHECK(r.frames[i].offset == expected[i]);
    }
    Limits limits;
    limits.max_line = 10;
    Framer soft(limits);
    REQUIRE(soft.feed("* OK long line\r\n* 1 EXISTS\r\n"));
    soft.resync();
    CHECK_FALSE(soft.feed(""));
    auto frame = soft.next();
    REQUIRE(frame);
    CHECK(frame->offset == 16);  // after the skipped line
}
