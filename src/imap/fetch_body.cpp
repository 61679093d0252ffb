#include "imap/fetch_body.hpp"

#include <cctype>
#include <string>

namespace imapkeep::imap {

bool is_body_att(std::string_view att) {
    std::string name(att);
    for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name.starts_with("BODY[]") || name.starts_with("BINARY[]") || name == "RFC822";
}

// msg-att-static = ... / "BODY" section ["<" number ">"] SP nstring / ...
// The fetch-att is the token right before the " {n}" (or " ~{n}") marker.
bool is_body_literal(std::string_view response_so_far) {
    if (!response_so_far.starts_with("* ")) return false;
    auto end = response_so_far.rfind('{');
    if (end == std::string_view::npos || end == 0) return false;
    if (response_so_far[end - 1] == '~') --end;
    if (end == 0 || response_so_far[end - 1] != ' ') return false;
    --end;
    auto start = response_so_far.rfind(' ', end == 0 ? 0 : end - 1);
    auto token = response_so_far.substr(start + 1, end - start - 1);
    if (token.starts_with('(')) token.remove_prefix(1);
    return is_body_att(token);
}

}  // namespace imapkeep::imap
