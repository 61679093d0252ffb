// A mailbox name as the exact bytes the server uses for it (DESIGN.md
// invariant 6). A name listed in a non-canonical form (a control character in
// a quoted string, 8-bit bytes without UTF8=ACCEPT, modified UTF-7 that does
// not round-trip) only opens when those very bytes go back: decoding it to
// UTF-8 and encoding it again gives other bytes, and the server answers NO.
// The client sends the bytes as an atom, a quoted string or a literal,
// whichever carries them unchanged (wire::Arg::Kind::Mailbox).
#pragma once

#include <string>

namespace imapkeep::imap {

class MailboxName {
  public:
    // The bytes as the server listed them (ListEntry::raw_name), unescaped.
    static MailboxName from_wire(std::string bytes) { return MailboxName(std::move(bytes)); }
    const std::string& wire() const { return m_wire; }
    bool operator==(const MailboxName&) const = default;

  private:
    explicit MailboxName(std::string bytes) : m_wire(std::move(bytes)) {}
    std::string m_wire;
};

}  // namespace imapkeep::imap
