// RFC 3501 §9 character classes, shared by the parser and the encoder so both
// sides of the wire agree on what an atom is.
#pragma once

namespace imapkeep::wire {

// CTL = %x00-1F / %x7F
inline bool is_ctl(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

// ATOM-CHAR = <any CHAR except atom-specials>
// atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials
inline bool is_atom_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
    switch (c) {
    case '(': case ')': case '{': case '%': case '*': case '"': case '\\': case ']':
        return false;
    default:
        return true;
    }
}

// ASTRING-CHAR = ATOM-CHAR / resp-specials
inline bool is_astring_char(char c) { return is_atom_char(c) || c == ']'; }

}  // namespace imapkeep::wire
