// Base64 (RFC 4648) via OpenSSL's EVP encoder, for SASL (RFC 3501 §6.2.2).
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace imapkeep::util {
std::string base64_encode(std::string_view data);       // no line breaks
std::optional<std::string> base64_decode(std::string_view text);  // nullopt on bad input
}  // namespace imapkeep::util
