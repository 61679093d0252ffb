#include <imapkeep/store/folder_allocation.hpp>
#include <set>

#include "store/maildir_names.hpp"

namespace imapkeep::store {

std::string folder_variant(const std::string& base, unsigned n) {
    const std::string suffix = "%~" + std::to_string(n);
    std::string stem = base.empty() ? std::string(".INBOX") : base;
    if (stem.size() + suffix.size() > kMaxNameBytes) stem.resize(kMaxNameBytes - suffix.size());
    return stem + suffix;
}

std::string allocate_folder(Catalog& catalog, MessageStore& messages, Id account_id,
                            const std::string& name, const std::string& delimiter, Id self) {
    std::set<std::string> taken;
    for (const auto& mailbox : catalog.mailboxes(account_id))
        if (mailbox.id != self) taken.insert(mailbox.folder);
    const std::string base = messages.folder_for(name, delimiter);
    if (!taken.count(base)) return base;
    for (unsigned n = 2;; ++n) {
        std::string variant = folder_variant(base, n);
        if (!taken.count(variant)) return variant;
    }
}

}  // namespace imapkeep::store
