// How CPython's imaplib reads one response line (_get_response), as pure
// functions so they can be tested without a server. Each mirrors one of its
// regular expressions; "rest" is what `.*` takes (the line has no LF left).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace imaplib::detail {

struct LineKind {
    enum class Kind { Tagged, Untagged, Continuation, Unexpected };
    Kind kind = Kind::Unexpected;
    std::string tag;                  // Tagged
    std::string type;                 // Tagged / Untagged
    std::optional<std::string> data;  // nullopt = Python None
};

// tagre:              (?P<tag>TAGPRE\d+) (?P<type>[A-Z]+) (?P<data>.*)
// Untagged_response:  \* (?P<type>[A-Z-]+)( (?P<data>.*))?
// Untagged_status:    \* (?P<data>\d+) (?P<type>[A-Z-]+)( (?P<data2>.*))?
//                     -> data "n rest" (or "n" when rest is empty)
// Continuation:       \+( (?P<data>.*))?
LineKind classify_line(std::string_view line, std::string_view tagpre);

// Response_code: \[(?P<type>[A-Z-]+)( (?P<data>.*))?\] at the start of `dat`;
// `.*` is greedy, so the data runs to the LAST "]" (issue 21815).
struct CodeMatch {
    std::string type;
    std::optional<std::string> data;
};
std::optional<CodeMatch> match_response_code(std::string_view dat);

// The seed's quoting rule for one command argument: returned unchanged when it
// is already in parentheses or double quotes, or needs no quoting (atom
// characters, list wildcards, "]" of fetch attributes, sequence sets, and a
// flag's leading backslash); otherwise nullopt (the caller sends it quoted).
bool needs_quoting(std::string_view arg);
// NUL, CR or LF: never allowed outside a literal.
bool has_nul_cr_lf(std::string_view arg);

}  // namespace imaplib::detail
