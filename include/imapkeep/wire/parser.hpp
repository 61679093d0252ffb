// Grammar parser: a complete Frame in, a Response out. No exceptions, no I/O.
// Function names follow the RFC 3501 §9 grammar rules they implement.
#pragma once

#include <imapkeep/wire/framer.hpp>
#include <imapkeep/wire/limits.hpp>
#include <imapkeep/wire/response.hpp>

#include <string>
#include <variant>

namespace imapkeep::wire {

struct ParseError {
    std::size_t offset;   // within the flattened first line(s)
    std::string message;
};

// response = continue-req / response-data / response-tagged / response-fatal
// Unknown untagged types are kept (type + args), never an error: only text that
// fits no rule at all is. Nesting beyond limits.max_depth is an error.
std::variant<Response, ParseError> parse_response(const Frame& frame, const Limits& limits = {});

}  // namespace imapkeep::wire
