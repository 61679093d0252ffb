// Encoder round trip: any value the encoder accepts must (1) keep NUL, CR and
// LF out of the command text outside literals, and (2) come back unchanged when
// the command is parsed as if a server had sent it ("* XVALUE <arg>").
#include "wire/replay.hpp"

#include <imapkeep/wire/encoder.hpp>
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

// Outside literals, a chunk's only CR/LF is its final CRLF and it has no NUL.
void check_chunk(std::string_view chunk) {
    check(chunk.size() >= 2 && chunk.substr(chunk.size() - 2) == "\r\n", "chunk ends in CRLF");
    const std::string_view body = chunk.substr(0, chunk.size() - 2);
    check(body.find_first_of(std::string_view("\0\r\n", 3)) == std::string_view::npos, "NUL/CR/LF in text");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t knobs = data[0];
    const std::string value(reinterpret_cast<const char*>(data + 1), size - 1);
    const Arg::Kind kinds[] = {Arg::Kind::Atom,   Arg::Kind::Raw,     Arg::Kind::AString,
                               Arg::Kind::String, Arg::Kind::Literal, Arg::Kind::Literal8};
    const Arg::Kind kind = kinds[knobs % 6];
    const LiteralMode modes[] = {LiteralMode::Synchronizing, LiteralMode::LiteralPlus, LiteralMode::LiteralMinus};
    const LiteralMode mode = modes[(knobs / 6) % 3];
    const bool utf8 = (knobs / 18) % 2 == 1;

    EncodedCommand cmd;
    try {
        cmd = encode_command("t", "XVALUE", {Arg{kind, value}}, mode, utf8);
    } catch (const EncodeError&) {
        const bool may_refuse = kind != Arg::Kind::Literal && kind != Arg::Kind::Literal8;
        check(may_refuse, "literal refused");
        return 0;
    }
    check(cmd.chunks.size() == cmd.literals.size() + 1, "chunk count");
    for (const auto& chunk : cmd.chunks) check_chunk(chunk);

    // Atom and Raw are trusted syntax, not values: only the text check applies.
    if (kind == Arg::Kind::Atom || kind == Arg::Kind::Raw) return 0;

    const std::string wire = "*" + cmd.flatten().substr(1);
    const Replay r = replay({wire});
    check(r.frames.size() == 1, "one frame");
    const auto result = parse_response(r.frames[0]);
    check(std::holds_alternative<Response>(result), "parses");
    const auto& args = std::get<Response>(result).args;
    check(args.size() == 1, "one argument");
    check(args[0].as_text() == value, "value comes back unchanged");
    return 0;
}
