// Modified UTF-7 for mailbox names (RFC 3501 §5.1.3).
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace imapkeep::util {
// UTF-8 -> modified UTF-7. Invalid UTF-8 -> std::invalid_argument.
std::string utf7_encode(std::string_view utf8);
// modified UTF-7 -> UTF-8. Malformed input (bad base64, unterminated shift,
// non-canonical encoding of printable ASCII) -> nullopt.
std::optional<std::string> utf7_decode(std::string_view mutf7);
}  // namespace imapkeep::util
