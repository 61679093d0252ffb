// What a STATUS asks for (RFC 3501 §6.3.10), and what LIST-STATUS asks for
// each listed mailbox (RFC 5819 "RETURN (STATUS (...))"): a set of status
// data items, sent in the order they were added, each once. Callers outside
// imap/ name items with StatusItem; only this type writes their protocol text.
//
//   status     = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"
//   status-att = "MESSAGES" / "RECENT" / "UIDNEXT" / "UIDVALIDITY" / "UNSEEN"
// RFC 7162 §3.1.2 adds "HIGHESTMODSEQ", RFC 8438 "SIZE", RFC 8474 §4.2
// "MAILBOXID", RFC 7889 §4 "APPENDLIMIT". The reply's values come back typed
// in StatusData (types.hpp); an item the server does not answer stays unset.
//
// Errors: arg() throws std::invalid_argument for an empty set (STATUS needs
// at least one item), before anything is sent.
#pragma once

#include <imapkeep/wire/encoder.hpp>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::imap {

enum class StatusItem { Messages, Recent, Unseen, UidNext, UidValidity, HighestModSeq, Size, MailboxId, AppendLimit };

// The item's name on the wire: "UIDNEXT".
std::string_view status_item_name(StatusItem item);

class StatusItems {
  public:
    StatusItems() = default;
    // Implicit, so that a call reads client.status(box, {StatusItem::UidNext}).
    StatusItems(std::initializer_list<StatusItem> items);

    StatusItems& add(StatusItem item);  // a second add of an item changes nothing
    bool contains(StatusItem item) const;
    bool empty() const { return m_items.empty(); }
    void clear() { m_items.clear(); }
    const std::vector<StatusItem>& items() const { return m_items; }

    // The parenthesized list: "(UIDVALIDITY UIDNEXT)".
    wire::Arg arg() const;
    std::string to_string() const;  // the list's text, for messages and tests

    bool operator==(const StatusItems&) const = default;

  private:
    std::vector<StatusItem> m_items;
};

}  // namespace imapkeep::imap
