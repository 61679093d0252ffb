// The flags an APPEND gives a message (RFC 3501 §6.3.11): a list of flags,
// each checked when the list is made, so a caller passes flag values and
// never protocol text; only this type writes the flag-list.
//
//   append     = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP literal
//   flag-list  = "(" [flag *(SP flag)] ")"
//   flag       = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" /
//                flag-keyword / flag-extension
//   flag-keyword = atom;  flag-extension = "\" atom
//
// Errors: the constructors throw std::invalid_argument, before anything is
// sent, for a flag that is not "\" atom or atom (a space, a parenthesis, a
// quote, CR or LF, 8-bit bytes, "\*"). Which flags a target keeps is the
// caller's business (archive/restore_flags.hpp filters them first).
#pragma once

#include <imapkeep/wire/encoder.hpp>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::imap {

// flag = "\" atom / atom (system flags and flag-extension are "\" atom).
bool is_flag(std::string_view flag);

class FlagList {
  public:
    FlagList() = default;
    // Implicit: flags are values, e.g. client.append(box, {"\\Seen"}, ...).
    FlagList(std::vector<std::string> flags);
    FlagList(std::initializer_list<std::string> flags) : FlagList(std::vector<std::string>(flags)) {}

    bool empty() const { return m_flags.empty(); }
    const std::vector<std::string>& values() const { return m_flags; }
    // "(\Seen $Work)"; "()" for none.
    wire::Arg arg() const;
    std::string to_string() const;  // the list's text, for messages and tests

    bool operator==(const FlagList&) const = default;

  private:
    std::vector<std::string> m_flags;  // each one flag, already checked
};

}  // namespace imapkeep::imap
