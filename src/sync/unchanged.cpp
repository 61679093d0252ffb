// What a mailbox needs when the server says nothing changed: the proof
// (unchanged_since) and the local chore that is left (tidy_folder).
#include <ctime>
#include <map>

#include "sync/mailbox_sync.hpp"

namespace imapkeep::sync {

bool unchanged_since(const store::MailboxRecord& record, const imap::StatusData& status,
                     SyncPath best_path) {
    // Without HIGHESTMODSEQ a flag change is invisible to STATUS: never skip then.
    if (!status.uidvalidity || !status.uidnext || !status.highestmodseq) return false;
    if (best_path == SyncPath::Plain || record.highestmodseq == 0) return false;
    return status.uidvalidity->value == record.uidvalidity &&
           status.uidnext->value == record.uidnext &&
           status.highestmodseq->value == record.highestmodseq;
}

bool proven_unchanged(store::Catalog& catalog, const store::MailboxRecord& record,
                      const imap::StatusData& status, SyncPath best_path) {
    if (unchanged_since(record, status, best_path)) return true;
    // With a mod-sequence listed, the EXAMINE that follows saves the new one:
    // the record stays what a full sync leaves.
    if (status.highestmodseq) return false;
    if (record.id == 0 || record.uidvalidity == 0 || status.messages.value_or(1) != 0) return false;
    if (!status.uidvalidity || status.uidvalidity->value != record.uidvalidity) return false;
    if (!status.uidnext || status.uidnext->value != record.uidnext) return false;
    return catalog.live_uidvalidities(record.id).empty();
}

void undo_reader_renames(AccountRun& run, store::Catalog& catalog, store::MessageStore& messages,
                         const store::MailboxRecord& record) {
    // Rows whose file is not on disk under its cataloged name: a reader's
    // renames, or nothing (files deleted by hand are verify's business).
    // Nothing is held per row that is in place, so this costs the change, not
    // the folder, in memory.
    const auto present = messages.folder_files(run.account.name, record.folder);
    std::vector<store::Id> misplaced;
    catalog.for_each_live_file(record.id, [&](store::Id id, const std::string& file) {
        if (!present.contains(file)) misplaced.push_back(id);
    });
    if (misplaced.empty()) return;
    std::map<std::string, store::MessageRecord> moved;  // by cataloged file
    std::vector<std::string> known;
    for (store::Id id : misplaced) {
        auto m = catalog.message_by_id(id);
        if (!m) continue;
        known.push_back(m->file);
        moved.emplace(m->file, std::move(*m));
    }
    auto renamed = messages.renamed_files(run.account.name, record.folder, known);
    if (renamed.empty()) return;
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    run.durable_step(catalog, messages, [&] {
        for (const auto& [cataloged, actual] : renamed) {
            const auto& m = moved.at(cataloged);
            // The catalog's flags are the server's as of the last sync.
            auto file = messages.set_flags(actual, m.flags);
            catalog.update_flags(m.id, m.flags, m.modseq, file, now);
        }
    });
}

bool tidy_folder(AccountRun& run, store::Catalog& catalog, store::MessageStore& messages,
                 store::MailboxRecord& record) {
    // Compared as it is: a saved stamp was taken settled, or after this
    // process's own writes with their clock tick waited out.
    if (messages.folder_unchanged(run.account.name, record.folder, record.folder_stamp))
        return false;
    // Taken before looking: whatever changes the folder from here on leaves
    // a different stamp for the next run.
    auto stamp = messages.folder_stamp(run.account.name, record.folder);
    // No run record needed for this: tmp/ files are nobody's; an undo is a
    // durable step and announces itself.
    run.confirm_writer(catalog);
    messages.clean_folder_tmp(run.account.name, record.folder);
    undo_reader_renames(run, catalog, messages, record);
    const bool changed = stamp.empty() || stamp != record.folder_stamp;
    record.folder_stamp = std::move(stamp);
    return changed;
}

}  // namespace imapkeep::sync
