// A parsed server response (RFC 3501 §7, RFC 9051 §7). The grammar parser turns a
// Frame into this generic tree; the typed client reads it through accessors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::wire {

// One IMAP value. Atoms keep fetch-att brackets whole: "BODY[HEADER.FIELDS (A B)]<0>"
// is a single Atom.
struct Node {
    enum class Kind { Atom, Number, String, Nil, List };
    Kind kind = Kind::Nil;
    std::string text;            // Atom/Number/String text (String unescaped)
    std::uint64_t number = 0;    // Kind::Number
    std::vector<Node> items;     // Kind::List
    bool literal = false;        // String came as a literal
    int literal_index = -1;      // index into Frame::literals when literal
    bool streamed = false;       // the literal went to a sink: `text` is empty

    bool is_atom(std::string_view upper) const;   // case-insensitive atom compare
    bool is_string() const { return kind == Kind::String; }
    // astring/nstring as text: Atom, Number or String text; Nil -> nullopt.
    std::optional<std::string> as_text() const;
};

struct ResponseCode {
    std::string name;          // upper-cased atom, e.g. "UIDVALIDITY", "PERMANENTFLAGS"
    std::string raw;           // everything between the name and "]", verbatim
    std::vector<Node> args;    // `raw` parsed as values when it parses, else empty
};

struct Response {
    enum class Kind { Tagged, Untagged, Continuation };
    Kind kind = Kind::Untagged;
    std::string tag;                    // Tagged only
    std::optional<std::uint64_t> number; // "* 23 EXISTS" / "* 5 FETCH (...)"
    std::string type;                   // upper-cased: OK NO BAD BYE PREAUTH CAPABILITY
                                        // LIST LSUB STATUS SEARCH ESEARCH FLAGS EXISTS
                                        // RECENT EXPUNGE FETCH VANISHED ENABLED ...
    // Status responses (OK/NO/BAD/BYE/PREAUTH) and continuations: resp-text.
    std::optional<ResponseCode> code;
    std::string text;
    // Everything after the type for data responses, as values.
    std::vector<Node> args;
    // The raw text after "* " / the tag / "+ " (first line only), for the imaplib façade.
    std::string raw_rest;

    bool is_status() const;
};

}  // namespace imapkeep::wire
