// The grace period of `imapkeep gc` as people write it: "7d", "36h", "90m",
// "3600s" or a bare number of seconds ([store.s3] gc_grace, gc --grace).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace imapkeep::cli {

// nullopt for anything else (a sign, a fraction, an unknown unit, past 10 years).
std::optional<std::chrono::seconds> parse_gc_grace(std::string_view text);

// The shortest of those forms that is exact: "7d", "36h", "0s".
std::string gc_grace_text(std::chrono::seconds grace);

}  // namespace imapkeep::cli
