// Differential fuzzing of the Framer: whatever the input, feeding it whole, in
// two parts, or one byte at a time must give the same frames, chooser calls,
// errors (kind and offset) and sink bytes. The first two bytes pick the limits
// and the split point, so small limits are reached too.
#include "wire/replay.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace imapkeep::wire;
using namespace imapkeep::wire::test;

namespace {

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

std::string sink_bytes(const Replay& r) {
    std::string all;
    for (const auto& sink : r.sinks) {
        check(sink.finish_calls <= 1, "sink finished twice");
        check(!sink.write_after_finish, "sink written after finish");
        all += sink.data;
        all += '\0';
    }
    return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t knobs = data[0];
    const std::uint8_t split_seed = data[1];
    const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);

    Limits limits;
    if (knobs & 1) {
        limits.max_line = 4 + ((knobs >> 1) & 31) * 3;
        limits.max_literal = (knobs >> 4) * 8;
        limits.max_buffered_response = 16 + (knobs >> 3) * 16;
    }
    // Odd-sized literals go to a sink, even ones are buffered.
    const SinkPolicy policy = [](std::string_view, std::uint64_t n) { return n % 2 == 1; };

    const Replay whole = replay({input}, limits, policy);
    const std::string whole_sinks = sink_bytes(whole);

    const std::size_t k = input.empty() ? 0 : (split_seed * 7919u) % (input.size() + 1);
    const Replay two = replay({input.substr(0, k), input.substr(k)}, limits, policy);
    check(two.log() == whole.log(), "split in two differs");
    check(sink_bytes(two) == whole_sinks, "sink bytes differ (two parts)");

    if (input.size() <= 4096) {
        std::vector<std::string_view> bytes;
        for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
        const Replay one = replay(bytes, limits, policy);
        check(one.log() == whole.log(), "byte by byte differs");
        check(sink_bytes(one) == whole_sinks, "sink bytes differ (byte by byte)");
    }

    // Every frame is consistent with its own markers.
    for (const Frame& frame : whole.frames) {
        check(frame.literals.size() + 1 == frame.lines.size(), "lines/literals count");
        for (std::size_t i = 0; i < frame.literals.size(); ++i) {
            const auto marker = find_literal_marker(frame.lines[i]);
            check(marker && marker->size == frame.literals[i].size, "marker/literal size");
            check(frame.literals[i].sink || frame.literals[i].data.size() == frame.literals[i].size,
                  "buffered literal size");
        }
        check(!find_literal_marker(frame.lines.back()), "last line ends in a marker");
    }
    return 0;
}
