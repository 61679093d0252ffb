// The flags the server reports for known messages, a few bytes per message.
// A changes list (QRESYNC's EXAMINE, CONDSTORE's CHANGEDSINCE) may name every
// message of the mailbox when the server rebuilt its index; a std::map of
// string vectors held about 400-900 bytes per message there (issue 10: 145 MB
// at 200k messages). Here each UID holds the index of its (normalized) flag
// set, and the few distinct sets are kept once.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace imapkeep::sync {

class FlagChanges {
  public:
    // The server's flags of `uid`; a later report for the same UID wins.
    void set(std::uint32_t uid, const std::vector<std::string>& flags);
    // The flags reported for `uid` (normalized, store/flags.hpp), or null.
    const std::vector<std::string>* find(std::uint32_t uid) const;
    // The UIDs reported, ascending, each once.
    std::vector<std::uint32_t> uids() const;
    bool empty() const { return m_entries.empty(); }
    std::size_t size() const;

  private:
    void sort() const;

    // (uid, arrival), flag set: arrival orders two reports of one UID.
    mutable std::vector<std::pair<std::uint64_t, std::uint32_t>> m_entries;
    mutable bool m_sorted = true;
    std::uint32_t m_arrivals = 0;
    std::vector<std::vector<std::string>> m_sets;
    std::map<std::vector<std::string>, std::uint32_t> m_set_index;
};

}  // namespace imapkeep::sync
