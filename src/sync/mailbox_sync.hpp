// Syncing one mailbox into the store (private to the sync layer).
#pragma once

#include <imapkeep/imap/client.hpp>
#include <imapkeep/sync/backup.hpp>
#include <imapkeep/sync/plan.hpp>

#include <atomic>
#include <optional>

namespace imapkeep::sync {

enum class SyncPath { Qresync, Condstore, Plain };
const char* path_name(SyncPath path);

// What every mailbox worker shares for one account run.
struct AccountRun {
    const AccountConfig& account;
    const BackupOptions& options;
    store::Id account_id = 0;
    SyncPath best_path = SyncPath::Plain;
    std::atomic<std::uint64_t> steps{0};

    // Counts one durable step; the test hook stops the run after N of them.
    void step();

    // One durable step: `body` changes files and catalog rows; then the file
    // renames are made durable, the catalog transaction commits, and the step
    // counts. Any exception rolls the catalog back (files are found again by
    // MessageStore::locate on the next run).
    template <class Body>
    void durable_step(store::Catalog& catalog, store::MessageStore& messages, Body&& body) {
        catalog.begin();
        try {
            body();
            messages.sync_committed();
            catalog.commit();
        } catch (...) {
            catalog.rollback();
            throw;
        }
        step();
    }
};

class MailboxSync {
public:
    MailboxSync(AccountRun& run, imap::Client& client, store::Catalog& catalog,
                store::MessageStore& messages);

    // Brings one mailbox up to date. `status` is what LIST-STATUS/STATUS said, if
    // anything. Errors of this mailbox are thrown (the caller records them);
    // StopRequested passes through.
    MailboxReport sync(const ServerMailbox& mailbox, const std::optional<imap::StatusData>& status);

private:
    store::MailboxRecord load_record(const ServerMailbox& mailbox);
    void remove_orphans(const store::MailboxRecord& record);
    bool unchanged(const store::MailboxRecord& record, const imap::StatusData& status) const;
    void handle_uidvalidity_change(store::MailboxRecord& record, std::uint32_t new_uidvalidity);
    void sync_known(store::MailboxRecord& record,
                    SyncPath path, std::map<std::uint32_t, std::vector<std::string>>& qresync_flags,
                    const UidSet& qresync_vanished);
    void apply_flags(const store::MailboxRecord& record, const FlagDiff& diff);
    void apply_expunges(const std::vector<store::Id>& ids);
    // Downloads every UID >= from_uid the catalog does not have yet.
    void fetch_new(store::MailboxRecord& record, std::uint32_t from_uid);
    std::int64_t now() const;

    AccountRun& m_run;
    imap::Client& m_client;
    store::Catalog& m_catalog;
    store::MessageStore& m_messages;
    MailboxReport m_report;
};

}  // namespace imapkeep::sync
