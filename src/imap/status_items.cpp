// StatusItems (status_items.hpp): the items' names are this file's alone.
#include <algorithm>
#include <imapkeep/imap/status_items.hpp>
#include <stdexcept>

namespace imapkeep::imap {

std::string_view status_item_name(StatusItem item) {
    switch (item) {
        case StatusItem::Messages: return "MESSAGES";
        case StatusItem::Recent: return "RECENT";
        case StatusItem::Unseen: return "UNSEEN";
        case StatusItem::UidNext: return "UIDNEXT";
        case StatusItem::UidValidity: return "UIDVALIDITY";
        case StatusItem::HighestModSeq: return "HIGHESTMODSEQ";
        case StatusItem::Size: return "SIZE";
        case StatusItem::MailboxId: return "MAILBOXID";
        case StatusItem::AppendLimit: return "APPENDLIMIT";
    }
    throw std::invalid_argument("unknown STATUS item");
}

StatusItems::StatusItems(std::initializer_list<StatusItem> items) {
    for (auto item : items) add(item);
}

StatusItems& StatusItems::add(StatusItem item) {
    if (!contains(item)) m_items.push_back(item);
    return *this;
}

bool StatusItems::contains(StatusItem item) const {
    return std::find(m_items.begin(), m_items.end(), item) != m_items.end();
}

wire::Arg StatusItems::arg() const {
    if (m_items.empty()) throw std::invalid_argument("a STATUS asks for nothing");
    std::vector<wire::Arg> list;
    list.reserve(m_items.size());
    for (auto item : m_items) list.push_back(wire::Arg::atom(std::string(status_item_name(item))));
    return wire::Arg::list(std::move(list));
}

std::string StatusItems::to_string() const {
    std::string out = "(";
    for (std::size_t i = 0; i < m_items.size(); ++i) out += (i ? " " : "") + std::string(status_item_name(m_items[i]));
    return out + ")";
}

}  // namespace imapkeep::imap
