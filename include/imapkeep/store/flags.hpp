// IMAP flag lists as the store keeps them: normalised, sorted, space-joined.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::store {

// Drops \Recent (RFC 3501 §2.3.2: session-only, never stored) and empty
// entries, gives the system flags their canonical case (flags are
// case-insensitive), sorts and deduplicates.
std::vector<std::string> normalize_flags(const std::vector<std::string>& flags);

// "\Answered \Seen $Work" form used in the catalog (input assumed normalised).
std::string join_flags(const std::vector<std::string>& flags);
std::vector<std::string> split_flags(std::string_view joined);

}  // namespace imapkeep::store
