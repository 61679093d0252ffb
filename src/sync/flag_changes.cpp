#include "sync/flag_changes.hpp"

#include <algorithm>
#include <imapkeep/store/flags.hpp>

namespace imapkeep::sync {

namespace {

// A UID and its arrival in one key: sorting by it puts a UID's reports
// together, the latest last.
std::uint64_t key(std::uint32_t uid, std::size_t arrival) {
    return (std::uint64_t{uid} << 32) | static_cast<std::uint32_t>(arrival);
}
std::uint32_t uid_of(std::uint64_t key) { return static_cast<std::uint32_t>(key >> 32); }

}  // namespace

void FlagChanges::set(std::uint32_t uid, const std::vector<std::string>& flags) {
    auto normalized = store::normalize_flags(flags);
    auto [it, added] = m_set_index.try_emplace(normalized, static_cast<std::uint32_t>(m_sets.size()));
    if (added) m_sets.push_back(std::move(normalized));
    if (!m_entries.empty() && uid_of(m_entries.back().first) >= uid) m_sorted = false;
    m_entries.emplace_back(key(uid, m_arrivals++), it->second);
}

void FlagChanges::sort() const {
    if (m_sorted) return;
    std::sort(m_entries.begin(), m_entries.end());
    // Keep the last report of each UID.
    std::vector<std::pair<std::uint64_t, std::uint32_t>> kept;
    kept.reserve(m_entries.size());
    for (std::size_t i = 0; i < m_entries.size(); ++i)
        if (i + 1 == m_entries.size() || uid_of(m_entries[i + 1].first) != uid_of(m_entries[i].first))
            kept.push_back(m_entries[i]);
    m_entries = std::move(kept);
    m_sorted = true;
}

const std::vector<std::string>* FlagChanges::find(std::uint32_t uid) const {
    sort();
    auto it = std::lower_bound(m_entries.begin(), m_entries.end(), key(uid, 0),
                               [](const auto& entry, std::uint64_t k) { return entry.first < k; });
    if (it == m_entries.end() || uid_of(it->first) != uid) return nullptr;
    return &m_sets[it->second];
}

std::vector<std::uint32_t> FlagChanges::uids() const {
    sort();
    std::vector<std::uint32_t> out;
    out.reserve(m_entries.size());
    for (const auto& entry : m_entries) out.push_back(uid_of(entry.first));
    return out;
}

std::size_t FlagChanges::size() const {
    sort();
    return m_entries.size();
}

}  // namespace imapkeep::sync
