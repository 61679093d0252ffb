// Folder stamps checked while the server lists (issue 10, "no-change").
//
// A mailbox that LIST-STATUS proves unchanged is settled only if its Maildir
// folder is as the last run left it (tidy_folder): one stat of each of cur/,
// new/ and tmp/. With 1,000 mailboxes that was 3,000 stats and the catalog's
// mailbox rows, about a fifth of a no-change run's CPU, all of it after the
// server had answered. FolderCheck does that work on a thread of its own while
// the first connection greets, logs in and lists, and settle_unchanged takes
// its verdicts.
//
// A verdict is kept per folder and the stamp it was compared with, so a row
// that changed meanwhile (a rename found after the listing gives the mailbox
// another folder, or another stamp) finds no verdict and is checked as before.
// A folder that changes after the check is no different from one that changes
// after the old check a few milliseconds later: the next run sees it.
#pragma once

#include <future>
#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/message_store.hpp>
#include <set>
#include <string>
#include <utility>

namespace imapkeep::sync {

class FolderCheck {
  public:
    // Starts checking every live mailbox folder of `account_id` (none for 0).
    // Until wait() returns, `catalog` belongs to the check: the caller must not
    // use it.
    FolderCheck(store::Catalog& catalog, store::MessageStore& messages, std::string account,
                store::Id account_id);
    // Waits, so the catalog is never used by two threads at once.
    ~FolderCheck();
    FolderCheck(const FolderCheck&) = delete;
    FolderCheck& operator=(const FolderCheck&) = delete;

    // Waits for the check; the catalog is the caller's again. A check that
    // failed (the catalog could not be read) leaves no verdict, so every
    // folder is checked as before.
    void wait();
    // True when `folder` was found as `stamp` vouches (MessageStore::folder_unchanged).
    bool unchanged(const std::string& folder, const std::string& stamp) const;

  private:
    using Verdicts = std::set<std::pair<std::string, std::string>>;  // folder, stamp
    std::future<Verdicts> m_running;
    Verdicts m_unchanged;
};

}  // namespace imapkeep::sync
