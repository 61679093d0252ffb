#include <algorithm>
#include <functional>
#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/folder_files.hpp>

namespace imapkeep::store {

std::uint64_t FolderFiles::digest(std::string_view relative) {
    static_assert(sizeof(std::size_t) == 8, "a 64-bit digest needs a 64-bit size_t");
    return std::hash<std::string_view>{}(relative);
}

void FolderFiles::add(std::string_view relative) {
    if (m_sealed) throw StoreError("FolderFiles::add() after seal()");
    m_digests.push_back(digest(relative));
}

void FolderFiles::seal() {
    std::sort(m_digests.begin(), m_digests.end());
    m_digests.shrink_to_fit();
    m_sealed = true;
}

bool FolderFiles::contains(std::string_view relative) const {
    if (!m_sealed) throw StoreError("FolderFiles::contains() before seal()");
    return std::binary_search(m_digests.begin(), m_digests.end(), digest(relative));
}

}  // namespace imapkeep::store
