// A STORE's change to messages' flags (RFC 3501 §6.4.6), or to their Gmail
// labels (X-GM-LABELS, Google's IMAP extensions). Callers outside imap/ say
// which flags to set, add or remove; only this type writes the protocol text.
//
//   store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP
//                     (flag-list / (flag *(SP flag)))
//   flag-list       = "(" [flag *(SP flag)] ")"
//   flag            = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" /
//                     flag-keyword / flag-extension
//   flag-keyword    = atom
//   flag-extension  = "\" atom
// Gmail: ["+" / "-"] "X-GM-LABELS" [".SILENT"] SP "(" [label *(SP label)] ")",
// each label an astring; system labels ("\Inbox") go as they are, the others
// as quoted strings (literals for 8-bit text).
//
// Errors: the factories throw std::invalid_argument, before anything is sent,
// for a flag that is not "\" atom or atom (a space, a parenthesis, a quote,
// CR or LF, 8-bit bytes, "\*"), and for a label holding NUL, CR or LF.
#pragma once

#include <imapkeep/imap/flag_list.hpp>
#include <imapkeep/wire/encoder.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::imap {

class StoreFlags {
  public:
    static StoreFlags set(std::vector<std::string> flags) {
        return {Item::Flags, Op::Set, std::move(flags)};
    }
    static StoreFlags add(std::vector<std::string> flags) {
        return {Item::Flags, Op::Add, std::move(flags)};
    }
    static StoreFlags remove(std::vector<std::string> flags) {
        return {Item::Flags, Op::Remove, std::move(flags)};
    }
    static StoreFlags add_gmail_labels(std::vector<std::string> labels) {
        return {Item::GmailLabels, Op::Add, std::move(labels)};
    }
    static StoreFlags remove_gmail_labels(std::vector<std::string> labels) {
        return {Item::GmailLabels, Op::Remove, std::move(labels)};
    }
    // ".SILENT": the server sends no FETCH of the new flags.
    StoreFlags& silent(bool on = true) {
        m_silent = on;
        return *this;
    }

    // The two arguments after the sequence set: "+FLAGS.SILENT" "(\Seen $Work)".
    std::vector<wire::Arg> args() const;
    // Their text (a literal label shown quoted), for messages and tests.
    std::string to_string() const;
    const std::vector<std::string>& values() const { return m_values; }

    bool operator==(const StoreFlags&) const = default;

  private:
    enum class Item { Flags, GmailLabels };
    enum class Op { Set, Add, Remove };
    StoreFlags(Item item, Op op, std::vector<std::string> values);
    std::string name() const;

    Item m_item;
    Op m_op;
    bool m_silent = false;
    std::vector<std::string> m_values;
};

}  // namespace imapkeep::imap
