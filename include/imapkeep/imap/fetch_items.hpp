// What a UID FETCH asks for: a list of fetch attributes (RFC 3501 §6.4.5),
// sent in the order they were added, each once. Callers outside imap/ say
// which attributes they want; only this type writes their protocol text.
//
//   fetch       = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" /
//                 fetch-att / "(" fetch-att *(SP fetch-att) ")")
//   fetch-att   = "ENVELOPE" / "FLAGS" / "INTERNALDATE" / "RFC822.SIZE" / "UID" /
//                 "BODY" [".PEEK"] section ["<" number "." nz-number ">"] / ...
//   section     = "[" [section-spec] "]"
//   section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
//   header-list = "(" header-fld-name *(SP header-fld-name) ")"
//   header-fld-name = astring
// RFC 7162 §3.1.4.1 adds the fetch-att "MODSEQ"; Gmail's IMAP extensions add
// X-GM-MSGID, X-GM-THRID and X-GM-LABELS.
//
// Errors: header_fields_peek() throws std::invalid_argument for an empty list
// or a field name that is not an atom (RFC 5322 field names always are), and
// body_peek_partial() for a count of 0 (nz-number), so nothing a caller
// passes can reshape the command.
#pragma once

#include <cstdint>
#include <imapkeep/wire/encoder.hpp>
#include <string>
#include <vector>

namespace imapkeep::imap {

class FetchItems {
  public:
    FetchItems& uid() { return add("UID"); }
    FetchItems& flags() { return add("FLAGS"); }
    FetchItems& internaldate() { return add("INTERNALDATE"); }
    FetchItems& rfc822_size() { return add("RFC822.SIZE"); }
    FetchItems& modseq() { return add("MODSEQ"); }  // RFC 7162
    FetchItems& body_peek() { return add("BODY.PEEK[]"); }
    // BODY.PEEK[]<origin.count>: `count` (>= 1) octets of BODY[] from
    // `origin`; the answer names "BODY[]<origin>", and an origin at or past
    // the end gives an empty string (RFC 3501 §6.4.5).
    FetchItems& body_peek_partial(std::uint64_t origin, std::uint32_t count);
    // BODY.PEEK[HEADER.FIELDS (name ...)]: the named header fields only.
    FetchItems& header_fields_peek(const std::vector<std::string>& names);
    FetchItems& gmail_msgid() { return add("X-GM-MSGID"); }
    FetchItems& gmail_thrid() { return add("X-GM-THRID"); }
    FetchItems& gmail_labels() { return add("X-GM-LABELS"); }

    bool empty() const { return m_atts.empty(); }
    // The parenthesized list, always in parentheses: "(UID FLAGS)".
    wire::Arg arg() const;
    std::string to_string() const;  // the list's text, for messages and tests

    bool operator==(const FetchItems&) const = default;

  private:
    FetchItems& add(std::string att);
    std::vector<std::string> m_atts;  // each one fetch-att, already checked
};

}  // namespace imapkeep::imap
