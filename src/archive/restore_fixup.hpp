// Private to restore: after the APPENDs of a mailbox, make the target hold what
// was sent. Some servers ignore the flags and/or the date of an APPEND, an
// Exchange-like class loses \Flagged: compare what the target reports for each
// new message and set the missing flags with UID STORE +FLAGS.SILENT. A date
// cannot be set afterwards (INTERNALDATE is fixed at APPEND): it is reported.
#pragma once

#include <imapkeep/archive/restore.hpp>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/store/catalog.hpp>
#include <optional>
#include <string>
#include <vector>

namespace imapkeep::archive::detail {

struct AppendedMessage {
    const store::MessageRecord* message = nullptr;
    std::optional<Uid> uid;          // from APPENDUID (UIDPLUS)
    std::vector<std::string> flags;  // as sent
};

// The target mailbox must be selected read-write. Messages without a UID are
// found by SHA-256 among the UIDs from `uidnext_before` (UIDNEXT at SELECT
// before the APPENDs; nullopt = everywhere) that `known` does not hold.
// Counts into report.flags_fixed / dates_not_kept; a message whose flags
// cannot be set or which cannot be found is added to report.failures.
// Returns the catalog ids of the messages whose flags were checked (all but
// those not found). Throws what the Client throws for a lost connection
// (imap::Abort).
std::vector<store::Id> fix_up_appended(imap::Client& client, std::vector<AppendedMessage>& appended,
                     std::optional<Uid> uidnext_before, const UidSet& known,
                     RestoreMailboxReport& report);

}  // namespace imapkeep::archive::detail
