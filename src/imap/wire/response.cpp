// Accessors of the generic response tree.
#include <imapkeep/wire/response.hpp>

#include <array>

namespace imapkeep::wire {

namespace {

char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_upper(a[i]) != ascii_upper(b[i])) return false;
    return true;
}

}  // namespace

bool Node::is_atom(std::string_view upper) const { return kind == Kind::Atom && iequals(text, upper); }

std::optional<std::string> Node::as_text() const {
    switch (kind) {
    case Kind::Atom:
    case Kind::Number:
    case Kind::String:
        return text;
    case Kind::Nil:
    case Kind::List:
        break;
    }
    return std::nullopt;
}

bool Response::is_status() const {
    // resp-cond-state / resp-cond-bye / resp-cond-auth (RFC 3501 §7.1)
    static constexpr std::array<std::string_view, 5> kStatus{"OK", "NO", "BAD", "BYE", "PREAUTH"};
    if (kind == Kind::Continuation) return false;
    for (auto s : kStatus)
        if (type == s) return true;
    return false;
}

}  // namespace imapkeep::wire
