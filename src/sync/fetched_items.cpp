#include "sync/fetched_items.hpp"

namespace imapkeep::sync {

namespace {

template <typename T>
void take(std::optional<T>& into, const std::optional<T>& from) {
    if (from) into = from;
}

}  // namespace

void merge_fetched(imap::FetchData& into, const imap::FetchData& from) {
    if (from.seq.value != 0) into.seq = from.seq;
    take(into.uid, from.uid);
    take(into.flags, from.flags);
    take(into.internaldate, from.internaldate);
    take(into.rfc822_size, from.rfc822_size);
    take(into.modseq, from.modseq);
    if (!from.emailid.empty()) into.emailid = from.emailid;
    take(into.gm_msgid, from.gm_msgid);
    take(into.gm_thrid, from.gm_thrid);
    take(into.gm_labels, from.gm_labels);
    for (const auto& [name, text] : from.sections) {
        bool replaced = false;
        for (auto& kept : into.sections)
            if (kept.first == name) {
                kept.second = text;
                replaced = true;
            }
        if (!replaced) into.sections.emplace_back(name, text);
    }
}

void ConsecutiveItems::add(const imap::FetchData& d) {
    if (!d.uid) return;
    if (m_waiting && m_waiting->uid != d.uid) finish();
    if (!m_waiting) {
        if (m_whole(d)) return m_take(d);
        m_waiting.emplace();
    }
    merge_fetched(*m_waiting, d);
    if (m_whole(*m_waiting)) finish();
}

void ConsecutiveItems::finish() {
    if (!m_waiting) return;
    auto items = std::move(*m_waiting);
    m_waiting.reset();
    m_take(items);
}

}  // namespace imapkeep::sync
