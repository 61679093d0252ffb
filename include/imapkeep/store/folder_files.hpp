// The message files of one live folder (cur/ and new/), as a compact set: eight
// bytes a file instead of its name, so asking "is this cataloged file on disk
// under its own name?" for every row of a 200k-message folder costs 1.6 MB, not
// the 20 MB of a listing (issue 10: memory follows the change, not the mailbox).
// Membership is by a 64-bit digest of the store-relative path: a collision can
// only make a reader's rename go unnoticed (the file stays, under its name),
// never lose or duplicate a file.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace imapkeep::store {

class FolderFiles {
  public:
    // Store-relative paths ("mail/acct/.Box/cur/NAME"), in any order.
    void add(std::string_view relative);
    // After the last add(): makes contains() a binary search.
    void seal();
    bool contains(std::string_view relative) const;
    std::size_t size() const { return m_digests.size(); }

  private:
    static std::uint64_t digest(std::string_view relative);
    std::vector<std::uint64_t> m_digests;
    bool m_sealed = false;
};

}  // namespace imapkeep::store
