// Small readers shared by the typed commands: IMAP keywords compare
// case-insensitively (RFC 3501 §9 note 3), and a number the grammar demands
// that is not one means the server's reply cannot be trusted.
#pragma once

#include <imapkeep/imap/errors.hpp>
#include <imapkeep/wire/response.hpp>

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

namespace imapkeep::imap {

inline std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

// number = 1*DIGIT; Error when the node is anything else.
inline std::uint64_t node_number(const wire::Node& n) {
    if (n.kind == wire::Node::Kind::Number) return n.number;
    throw Error("expected a number, got '" + n.text + "'");
}

}  // namespace imapkeep::imap
