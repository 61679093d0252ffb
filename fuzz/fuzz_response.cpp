// Framer + parser on arbitrary server bytes: no crash, no sanitizer report,
// bounded recursion, and every parsed literal node points at its frame literal.
#include "wire/replay.hpp"

#include <imapkeep/wire/parser.hpp>

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

std::size_t check_nodes(const std::vector<Node>& nodes, const Frame& frame, std::size_t depth) {
    std::size_t deepest = depth;
    for (const Node& node : nodes) {
        if (node.literal) {
            check(node.kind == Node::Kind::String, "literal is a string");
            check(node.literal_index >= 0 && static_cast<std::size_t>(node.literal_index) < frame.literals.size(),
                  "literal index in range");
            const FrameLiteral& lit = frame.literals[static_cast<std::size_t>(node.literal_index)];
            check(node.streamed == (lit.sink != nullptr), "streamed iff sink");
            check(node.streamed ? node.text.empty() : node.text == lit.data, "literal text");
        }
        if (node.kind == Node::Kind::List) deepest = std::max(deepest, check_nodes(node.items, frame, depth + 1));
    }
    return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    Limits limits;
    limits.max_depth = 1 + data[0] % 16;
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    const SinkPolicy policy = [](std::string_view text, std::uint64_t) {
        return text.size() >= 2 && text[text.size() - 2] == '0';  // e.g. "{10}"
    };
    const Replay r = replay({input}, limits, policy);
    for (const Frame& frame : r.frames) {
        const auto result = parse_response(frame, limits);
        if (const auto* response = std::get_if<Response>(&result)) {
            check(check_nodes(response->args, frame, 0) <= limits.max_depth, "depth limit");
            if (response->code) check_nodes(response->code->args, frame, 0);
            (void)dump(*response);
        } else {
            check(std::get<ParseError>(result).offset <= frame.flatten().size(), "error offset in range");
        }
    }
    return 0;
}
