#include "sync/rematch_planner.hpp"

#include <imapkeep/store/flags.hpp>
#include <imapkeep/util/imap_date.hpp>

#include "sync/mailbox_sync.hpp"

namespace imapkeep::sync {

namespace {

// Every item of the key and the flags: a response with them all needs no other.
bool whole(const imap::FetchData& d) {
    return d.flags && d.internaldate && d.rfc822_size && !d.sections.empty();
}

}  // namespace

RematchPlanner::RematchPlanner(store::Catalog& catalog, store::Id mailbox_id)
    : m_items(whole, [this](const imap::FetchData& d) { key(d); }) {
    catalog.for_each_message_key(mailbox_id, [&](const store::MessageKey& m) {
        m_keys.add_catalog(m.id, m.message_id, m.internaldate, m.size);
    });
}

imap::FetchItems RematchPlanner::listing_items() {
    return imap::FetchItems().uid().flags().internaldate().rfc822_size().header_fields_peek({"MESSAGE-ID"});
}

void RematchPlanner::add(const imap::FetchData& d) { m_items.add(d); }

void RematchPlanner::key(const imap::FetchData& d) {
    std::string message_id;
    for (const auto& [section, text] : d.sections) message_id = parse_message_id(text);
    std::int64_t internaldate = 0;
    if (d.internaldate)
        if (auto t = util::parse_imap_datetime(*d.internaldate)) internaldate = t->epoch;
    // Flags only matter for a message that can match: one with a Message-ID.
    const std::uint32_t flags = d.flags && !message_id.empty() ? m_flags.intern(store::normalize_flags(*d.flags)) : 0;
    m_keys.add_server(d.uid->value, message_id, internaldate, d.rfc822_size.value_or(0), flags);
}

Rematch RematchPlanner::plan() {
    m_items.finish();
    return m_keys.plan();
}

const std::vector<std::string>& RematchPlanner::flags_of(std::uint32_t uid) const {
    return m_flags.at(m_keys.tag_of(uid));
}

}  // namespace imapkeep::sync
