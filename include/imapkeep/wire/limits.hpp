// Limits every reader enforces (DESIGN.md "Limits"). An announced literal size
// is checked against these before a single byte of it is read, and never
// decides an allocation on its own.
#pragma once

#include <cstddef>
#include <cstdint>

namespace imapkeep::wire {

struct Limits {
    std::size_t max_line = 1 << 20;               // one line, CRLF excluded (imaplib: 1,000,000)
    std::uint64_t max_literal = 1ull << 31;       // one literal, buffered or streamed
    std::size_t max_buffered_response = 64 << 20; // bytes of one response held in memory
    std::size_t max_depth = 100;                  // nesting of parenthesised lists
};

}  // namespace imapkeep::wire
