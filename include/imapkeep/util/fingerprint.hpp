// Certificate fingerprints as users write them (TLS pinning, tls_fingerprint).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace imapkeep::util {

// "sha256:AB:CD:..." (as `openssl x509 -fingerprint -sha256` prints it, with
// or without the prefix and colons, any case) -> 64 lower-case hex digits;
// nullopt if it is not a SHA-256 fingerprint.
std::optional<std::string> normalize_fingerprint(std::string_view text);

}  // namespace imapkeep::util
