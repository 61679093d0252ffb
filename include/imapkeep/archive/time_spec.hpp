// The TIME of `--at TIME` (restore and export, issue 4): the moment whose state
// of the catalog (messages present, flags they had) is wanted.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace imapkeep::archive {

// Accepted forms (ISO 8601 subset):
//   YYYY-MM-DD                         local midnight at the start of that day
//   YYYY-MM-DDTHH:MM[:SS[.fff]]        local time ('T' or one space)
//   ... followed by Z, +HH:MM, +HHMM, +HH, -HH:MM ...   that offset, not local
// Returns epoch seconds (fractions dropped), or nullopt for anything else: a
// caller turns that into a usage error. Field ranges are checked (month 1-12,
// day valid for the month, hour 0-23, minute 0-59, second 0-60, offset < 24h).
std::optional<std::int64_t> parse_point_in_time(std::string_view text);

}  // namespace imapkeep::archive
