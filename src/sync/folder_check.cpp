#include "sync/folder_check.hpp"

namespace imapkeep::sync {

namespace {

std::set<std::pair<std::string, std::string>> check_folders(store::Catalog& catalog,
                                                            store::MessageStore& messages,
                                                            const std::string& account,
                                                            store::Id account_id) {
    std::set<std::pair<std::string, std::string>> unchanged;
    for (auto& m : catalog.mailboxes(account_id)) {
        if (m.deleted_at || m.folder_stamp.empty()) continue;
        if (messages.folder_unchanged(account, m.folder, m.folder_stamp))
            unchanged.emplace(std::move(m.folder), std::move(m.folder_stamp));
    }
    return unchanged;
}

}  // namespace

FolderCheck::FolderCheck(store::Catalog& catalog, store::MessageStore& messages, std::string account,
                         store::Id account_id) {
    if (account_id == 0) return;
    m_running = std::async(std::launch::async, [&catalog, &messages, account = std::move(account),
                                                account_id] {
        return check_folders(catalog, messages, account, account_id);
    });
}

FolderCheck::~FolderCheck() {
    try {
        wait();
    } catch (...) {
    }
}

void FolderCheck::wait() {
    if (!m_running.valid()) return;
    try {
        m_unchanged = m_running.get();
    } catch (const std::exception&) {
        m_unchanged.clear();  // no verdicts: every folder is looked at as before
    }
}

bool FolderCheck::unchanged(const std::string& folder, const std::string& stamp) const {
    return m_unchanged.contains({folder, stamp});
}

}  // namespace imapkeep::sync
