// The restore journal and the target's own content (restore_journal.hpp).
#include "archive/restore_journal.hpp"

#include <ctime>

namespace imapkeep::archive::detail {

namespace {

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

void journal(const JournalTarget& target, const store::MessageRecord& m, Uid uid, bool flags_checked = true) {
    target.catalog.add_restore_entry(
        {target.account, target.mailbox, m.id, target.uidvalidity.value, uid.value, now(), flags_checked});
}

}  // namespace

std::vector<const store::MessageRecord*> unjournaled(const JournalTarget& target,
                                                     const std::vector<store::MessageRecord>& list,
                                                     RestoreMailboxReport& report,
                                                     Journaled& journaled) {
    std::vector<const store::MessageRecord*> pending;
    for (const auto& m : list) {
        auto entry = target.catalog.restore_entry(target.account, target.mailbox, m.id);
        if (!entry) {
            pending.push_back(&m);
            continue;
        }
        ++report.already;
        const bool has_uid = entry->target_uid && entry->target_uidvalidity == target.uidvalidity.value;
        if (has_uid)
            journaled.uids.add(Uid(entry->target_uid));
        else
            journaled.without_uid.push_back({m.sha256, m.size});
        if (!entry->flags_checked)
            journaled.unchecked.push_back({&m, has_uid ? std::optional(Uid(entry->target_uid)) : std::nullopt});
    }
    return pending;
}

void drop_present(imap::Client& client, const JournalTarget& target, const Journaled& journaled,
                  bool record, std::vector<const store::MessageRecord*>& pending,
                  RestoreMailboxReport& report, std::vector<UncheckedCopy>* to_check) {
    // The journaled copies without a UID come first, so that they are matched
    // before any unjournaled one.
    std::vector<WantedMessage> wanted = journaled.without_uid;
    for (const auto* m : pending) wanted.push_back({m->sha256, m->size});
    auto found = find_in_target(client, wanted, all_uids(), journaled.uids);
    std::vector<const store::MessageRecord*> left;
    for (std::size_t i = 0; i < pending.size(); ++i) {
        const auto& uid = found[journaled.without_uid.size() + i];
        if (!uid) {
            left.push_back(pending[i]);
            continue;
        }
        ++report.already;
        if (!record) continue;
        journal(target, *pending[i], *uid, /*flags_checked=*/to_check == nullptr);
        if (to_check) to_check->push_back({pending[i], uid});
    }
    pending = std::move(left);
}

void journal_found_uids(const JournalTarget& target, const std::vector<AppendedMessage>& appended) {
    for (const auto& a : appended)
        if (a.uid) journal(target, *a.message, *a.uid);
}

}  // namespace imapkeep::archive::detail
