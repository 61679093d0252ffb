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

// verify --repair of "name shared" problems (store/verify.hpp), with no
// server: each row's file gets a unique name of its own in its directory
// (MessageStore::link_under_new_name: the same inode, nothing copied), the
// catalog names it, and only then does the old name go, unless it is the
// label link itself. Replayed after a kill at any point, the row names an
// intact file (the old one, or the new one); a link made and not cataloged
// is one more name of the same inode (a live folder's is swept as an orphan
// by the next backup). Throws what the catalog or the store throw.
std::vector<RepairOutcome> repair_shared_names(store::Id account_id, store::Catalog& catalog,
                                               store::MessageStore& messages,
                                               const std::vector<store::VerifyProblem>& problems);

// verify --repair of Gmail label links ("link missing", "link not the
// copy"): the server's Gmail layout is listed (LIST, the label folders'
// names), then each message's links are made again from its copy as a
// backup makes them (sync::LabelView::link: files first, made durable, then
// the rows, in one catalog transaction). Maildir: a missing link is linked
// again; a file in the way that is not the copy is never overwritten or
// removed, and is named. S3: the rows name the copy's object again. Throws
// imap::ConnectError when the server cannot be reached (nothing changed).
std::vector<RepairOutcome> repair_label_links(const sync::AccountConfig& account,
                                              store::Catalog& catalog, store::MessageStore& messages,
                                              const std::vector<store::VerifyProblem>& problems);

}  // namespace imapkeep::cli
