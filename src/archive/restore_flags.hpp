// Private to restore: which of a message's flags the target can be sent and
// keep. A keyword that is not an atom (a Gmail label with "]", 8-bit text, a
// space) cannot be encoded at all, and one the target does not list in
// PERMANENTFLAGS (without "\*") would be refused or silently lost; either way
// the message is restored without it and the flag is reported.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace imapkeep::archive::detail {

struct TargetFlags {
    std::vector<std::string> send;     // for APPEND and STORE
    std::vector<std::string> dropped;  // the target cannot take these
};

// `permanent` is the target's PERMANENTFLAGS (RFC 3501 §7.1), nullopt if it
// sent none (then any atom may be sent). \Recent is session state (§2.3.2):
// never sent, never reported.
TargetFlags flags_for_target(const std::vector<std::string>& flags,
                             const std::optional<std::vector<std::string>>& permanent);

// Case-insensitive (flags are, RFC 3501 §2.3.2): the flags of `wanted` that
// `present` lacks.
std::vector<std::string> missing_flags(const std::vector<std::string>& wanted,
                                       const std::vector<std::string>& present);

}  // namespace imapkeep::archive::detail
