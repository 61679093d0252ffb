// Grammar parser: a complete Frame in, a Response out. No exceptions, no I/O.
// Function names follow the RFC 3501 §9 grammar rules they implement.
#pragma once

#include <imapkeep/wire/framer.hpp>
#include <imapkeep/wire/limits.hpp>
#include <imapkeep/wire/response.hpp>

#include <optional>
#include <string>
#include <variant>

namespace imapkeep::wire {

struct ParseError {
    std::size_t offset;   // byte offset within frame.flatten()
    std::string message;
    // Set when only the data of an untagged response of a known type failed
    // (not its nesting depth): its kind, number, type and raw_rest, args
    // empty. The frame was whole, so a client may skip it and go on.
    std::optional<Response> partial = std::nullopt;
};

// response = continue-req / response-data / response-tagged / response-fatal
// Unknown untagged types are kept (type + args), never an error: only text that
// fits no rule at all is. Nesting beyond limits.max_depth is an error.
//
// Status responses (OK/NO/BAD/BYE/PREAUTH, tagged or not) and continuations get
// `code` and `text`; resp-text-code ends at the first ']' outside quoted strings
// and parenthesised lists. A code whose name is not an atom is left in `text`.
// Data responses get `args`; for unknown types whose data does not parse, args
// is empty and raw_rest keeps the text. A literal becomes a String node with
// literal_index = its index in frame.literals (text copied, or empty and
// streamed = true when it went to a sink).
// Tolerated: extra SP between values, a status without text, "+" without SP,
// "* NOOP", flags holding '[' ']' or "\*", ']' inside code data.
std::variant<Response, ParseError> parse_response(const Frame& frame, const Limits& limits = {});

}  // namespace imapkeep::wire
