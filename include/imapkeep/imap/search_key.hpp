// What a UID SEARCH looks for (RFC 3501 §6.4.4): search keys, composable.
// Callers outside imap/ build keys from values; only this type writes the
// protocol text, and a string value always goes as a quoted string or a
// literal (the encoder's choice), never spliced into the command.
//
//   search     = "SEARCH" [SP "CHARSET" SP astring] 1*(SP search-key)
//   search-key = "ALL" / "ANSWERED" / "DELETED" / "DRAFT" / "FLAGGED" / "SEEN" /
//                "KEYWORD" SP flag-keyword / "HEADER" SP header-fld-name SP astring /
//                "NOT" SP search-key / "OR" SP search-key SP search-key /
//                "UID" SP sequence-set / "(" search-key *(SP search-key) ")" / ...
// Keys side by side must all match (AND). The client adds "CHARSET UTF-8"
// when a string holds 8-bit text, unless UTF8=ACCEPT is on (RFC 6855 §3,
// errata 4029: then no charset may be named).
//
// Errors: the factories throw std::invalid_argument, before anything is sent,
// for a header field name or keyword that is not an atom, a string holding
// NUL, CR or LF, an empty UID set, and all_of() of nothing.
#pragma once

#include <imapkeep/imap/types.hpp>
#include <imapkeep/wire/encoder.hpp>
#include <string>
#include <vector>

namespace imapkeep::imap {

class SearchKey {
  public:
    static SearchKey all();
    static SearchKey uid(const UidSet& uids);
    // Messages with `flag`: a system flag ("\Seen" -> SEEN) or a keyword
    // (KEYWORD $Work). Unknown "\" flags cannot be searched: invalid_argument.
    static SearchKey flag(const std::string& flag);
    static SearchKey header(const std::string& field, const std::string& value);
    static SearchKey not_(const SearchKey& key);
    static SearchKey or_(const SearchKey& a, const SearchKey& b);
    static SearchKey all_of(const std::vector<SearchKey>& keys);

    // One or more search-keys, separated by SP as the command sends them.
    const std::vector<wire::Arg>& args() const { return m_args; }
    // Whether a string value holds 8-bit text (the search then names a charset).
    bool has_8bit() const { return m_8bit; }
    std::string to_string() const;  // the keys' text (strings shown quoted), for messages and tests

  private:
    SearchKey(std::vector<wire::Arg> args, bool eight_bit = false)
        : m_args(std::move(args)), m_8bit(eight_bit) {}
    // Adds `key` to `out` as one search-key: several side by side go in parentheses.
    static void add_one(std::vector<wire::Arg>& out, const SearchKey& key);

    std::vector<wire::Arg> m_args;
    bool m_8bit = false;
    bool m_single = true;  // one search-key (all_of() of several is not)
};

}  // namespace imapkeep::imap
