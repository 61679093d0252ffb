// imapkeep verify --repair: message files that are missing or damaged are
// fetched again from the server, by UID after checking UIDVALIDITY, and
// written through the store's normal path (tmp/, fsync, rename into cur/, then
// the catalog records the new file), so the invariants of a backup hold.
// A copy is accepted only when its size and SHA-256 equal the catalog's: the
// backup keeps what it had, never a different message under the same UID.
// The server is only read (EXAMINE, UID FETCH BODY.PEEK[]).
#pragma once

#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/verify.hpp>
#include <imapkeep/sync/backup.hpp>
#include <string>
#include <vector>

namespace imapkeep::cli {

struct RepairOutcome {
    std::string file;  // the damaged file, store-relative (as verify named it)
    bool repaired = false;
    std::string new_file;  // when repaired: where the good copy is now
    std::string reason;    // when not: why, e.g. "the server no longer has UID 7 of INBOX"
    std::string where;     // "UID 7 of INBOX", for the report
};

// One outcome per problem. Throws imap::ConnectError when the server cannot
// be reached (then nothing was changed).
std::vector<RepairOutcome> repair_files(const sync::AccountConfig& account, store::Id account_id,
                                        store::Catalog& catalog, store::MessageStore& messages,
                                        const std::vector<store::VerifyProblem>& problems);

}  // namespace imapkeep::cli
