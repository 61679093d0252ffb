// Flag lists, interned: most messages of a mailbox share a few flag sets, so
// a listing of many messages keeps one copy of each set and a small index per
// message instead of a vector of strings each.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace imapkeep::sync {

class FlagSets {
  public:
    FlagSets();
    // The index of `flags` (as given: normalise first), the same for equal lists.
    std::uint32_t intern(std::vector<std::string> flags);
    // The list of an index intern() returned; index 0 is the empty list.
    const std::vector<std::string>& at(std::uint32_t index) const { return *m_by_index.at(index); }

  private:
    std::map<std::vector<std::string>, std::uint32_t> m_index;
    std::vector<const std::vector<std::string>*> m_by_index;  // keys of m_index (nodes never move)
};

}  // namespace imapkeep::sync
