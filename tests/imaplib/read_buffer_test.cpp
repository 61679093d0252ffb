#include <catch2/catch.hpp>
#include <cstring>
#include <imapkeep/imaplib/read_buffer.hpp>
#include <string>
#include <vector>

using imaplib::detail::ReadBuffer;

namespace {

// One step on the buffer: append `bytes`, or take / skip `n`.
struct Step {
    enum Kind { Append, Take, Skip } kind;
    std::string bytes;
    std::size_t n = 0;
    std::string expect_taken;  // for Take
    std::string expect_left;   // view() after the step
};

}  // namespace

TEST_CASE("ReadBuffer: takes from the front, keeps the rest in order", "[imaplib][read_buffer]") {
    const std::vector<std::vector<Step>> cases = {
        {{Step::Append, "a\r\nb\r\n", 0, "", "a\r\nb\r\n"},
         {Step::Take, "", 3, "a\r\n", "b\r\n"},
         {Step::Take, "", 3, "b\r\n", ""}},
        // More than there is: what there is.
        {{Step::Append, "abc", 0, "", "abc"},
         {Step::Take, "", 10, "abc", ""},
         {Step::Take, "", 1, "", ""}},
        // An append after a partial take keeps the unconsumed bytes first,
        // also when the consumed front is dropped (compaction).
        {{Step::Append, "0123456789", 0, "", "0123456789"},
         {Step::Take, "", 7, "0123456", "789"},
         {Step::Append, "ab", 0, "", "789ab"},
         {Step::Take, "", 4, "789a", "b"},
         {Step::Append, "cd", 0, "", "bcd"}},
        {{Step::Append, "xyz", 0, "", "xyz"},
         {Step::Skip, "", 1, "", "yz"},
         {Step::Skip, "", 9, "", ""}},
        // Binary bytes, NUL included.
        {{Step::Append, std::string("\0\r\n\xff", 4), 0, "", std::string("\0\r\n\xff", 4)},
         {Step::Take, "", 2, std::string("\0\r", 2), "\n\xff"}},
    };
    for (std::size_t c = 0; c < cases.size(); ++c) {
        ReadBuffer buffer;
        for (std::size_t s = 0; s < cases[c].size(); ++s) {
            const auto& step = cases[c][s];
            INFO("case " << c << " step " << s);
            switch (step.kind) {
                case Step::Append:
                    buffer.append(step.bytes.data(), step.bytes.size());
                    break;
                case Step::Take:
                    CHECK(buffer.take(step.n) == step.expect_taken);
                    break;
                case Step::Skip:
                    buffer.skip(step.n);
                    break;
            }
            CHECK(buffer.view() == step.expect_left);
            CHECK(buffer.size() == step.expect_left.size());
            CHECK(buffer.empty() == step.expect_left.empty());
        }
    }
}

TEST_CASE("ReadBuffer: many appends and skips keep exactly the unconsumed bytes",
          "[imaplib][read_buffer]") {
    // Lines consumed one by one while chunks keep arriving: the consumed
    // front must not pile up.
    ReadBuffer buffer;
    const std::string chunk(64 * 1024, 'x');
    for (int i = 0; i < 200; ++i) {
        buffer.append(chunk.data(), chunk.size());
        buffer.skip(chunk.size() - 10);
    }
    CHECK(buffer.size() == 200 * 10);
    CHECK(buffer.view() == std::string(2000, 'x'));
}

TEST_CASE("ReadBuffer: the stream reads into its tail; the buffer is reused, grown only for more",
          "[imaplib][read_buffer]") {
    ReadBuffer buffer;
    // A read into prepare()'s span, committed in part.
    auto span = buffer.prepare(10);
    REQUIRE(span.size() >= 10);
    std::memcpy(span.data(), "abc\r\nde", 7);
    buffer.commit(7);
    CHECK(buffer.take(5) == "abc\r\n");
    CHECK(buffer.view() == "de");
    // Lines consumed while reads keep coming: the capacity stays put.
    buffer.skip(1);
    const std::size_t capacity = buffer.capacity();
    const std::string line(1000, 'l');
    for (int i = 0; i < 1000; ++i) {
        buffer.append(line.data(), line.size());
        buffer.skip(line.size());
    }
    CHECK(buffer.view() == "l");
    CHECK(buffer.capacity() == capacity);
    // More than fits: it grows, keeping the unconsumed bytes first.
    const std::string big(3 * capacity, 'b');
    buffer.append(big.data(), big.size());
    CHECK(buffer.capacity() >= big.size() + 1);
    CHECK(buffer.take(3) == "lbb");
    CHECK(buffer.size() == big.size() - 2);
}
