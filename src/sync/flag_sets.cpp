#include "sync/flag_sets.hpp"

namespace imapkeep::sync {

FlagSets::FlagSets() { intern({}); }

std::uint32_t FlagSets::intern(std::vector<std::string> flags) {
    auto [it, added] = m_index.try_emplace(std::move(flags), static_cast<std::uint32_t>(m_by_index.size()));
    if (added) m_by_index.push_back(&it->first);
    return it->second;
}

}  // namespace imapkeep::sync
