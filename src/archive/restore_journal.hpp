// Private to restore: what of a mailbox is already on the target, from the
// restore journal and, for what the journal does not have (a run killed
// between APPEND and journal commit), from the target itself by SHA-256.
#pragma once

#include <imapkeep/archive/restore.hpp>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/store/catalog.hpp>
#include <string>
#include <vector>

#include "archive/restore_fixup.hpp"
#include "archive/target_index.hpp"

namespace imapkeep::archive::detail {

// One target mailbox, as selected now.
struct JournalTarget {
    store::Catalog& catalog;
    const std::string& account;
    const std::string& mailbox;
    UidValidity uidvalidity;
};

// A copy on the target whose flags were not checked yet: the run that
// appended it was cut before its fix-up (restore_fixup.hpp).
struct UncheckedCopy {
    const store::MessageRecord* message = nullptr;
    std::optional<Uid> uid;  // nullopt: to be found by its bytes
};

// What the journal already has: the UIDs it names in this incarnation of the
// target mailbox, and the messages journaled without one (no UIDPLUS, or an
// older UIDVALIDITY), each of which also stands for one matching target copy.
struct Journaled {
    UidSet uids;
    std::vector<WantedMessage> without_uid;
    std::vector<UncheckedCopy> unchecked;
};

// The messages of `list` the journal does not have; the others count in
// report.already and go into `journaled`.
std::vector<const store::MessageRecord*> unjournaled(const JournalTarget& target,
                                                     const std::vector<store::MessageRecord>& list,
                                                     RestoreMailboxReport& report,
                                                     Journaled& journaled);

// Drops from `pending` the messages the selected target already holds (same
// bytes; one target copy per source copy, journaled copies excluded): they
// count in report.already and, if `record`, are journaled with their UID (not
// in a dry run). With `to_check` (after a killed run, whose APPENDs may have
// landed unjournaled and without their flags) they are journaled unchecked
// and added there. Throws what the Client throws.
void drop_present(imap::Client& client, const JournalTarget& target, const Journaled& journaled,
                  bool record, std::vector<const store::MessageRecord*>& pending,
                  RestoreMailboxReport& report, std::vector<UncheckedCopy>* to_check = nullptr);

// Journals the UIDs the fix-up found for messages appended without APPENDUID,
// so that a later run can tell these copies from others.
void journal_found_uids(const JournalTarget& target, const std::vector<AppendedMessage>& appended);

}  // namespace imapkeep::archive::detail
