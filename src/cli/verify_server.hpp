// verify --server: what the backup holds of each mailbox (UIDs, flags),
// compared with the server now. The server is only read (LIST, EXAMINE,
// UID FETCH without bodies).
#pragma once

#include <imapkeep/store/catalog.hpp>
#include <imapkeep/sync/backup.hpp>
#include <imapkeep/util/types.hpp>
#include <string>
#include <vector>

namespace imapkeep::cli {

struct MailboxDiff {
    std::string name;
    std::string problem;      // whole-mailbox problem, else ""
    UidSet not_backed_up;     // on the server, not in the catalog
    UidSet gone_from_server;  // in the catalog, not on the server
    UidSet flags_differ;
    UidSet labels_differ;  // Gmail: X-GM-LABELS not as the backup has them
    bool clean() const {
        return problem.empty() && not_backed_up.empty() && gone_from_server.empty() &&
               flags_differ.empty() && labels_differ.empty();
    }
};

// What verify --server compared. Gmail with All Mail selected: its messages
// and their labels ("labels differ": X-GM-LABELS not as the backup has
// them). Gmail with `mailboxes` naming label views (INBOX, a user label) and
// not All Mail: the backup holds All Mail's messages with those labels
// (sync::LabelFilter), so those rows are compared with All Mail's messages
// that have those labels on the server now, their labels too (a message that
// lost the label is "labels differ", one that gained it and is not stored
// "not backed up").
struct ServerComparison {
    std::vector<MailboxDiff> diffs;   // the mailboxes with problems
    std::string labels_of;            // Gmail: All Mail, when its labels were compared
    std::vector<std::string> labels;  // the config's patterns that chose label views; empty: all
    std::size_t labelled = 0;         // the backup's rows with those labels
};

// The mailboxes of `account` the config selects, compared. Throws
// ConnectError when the server is unreachable, and what the client throws
// when the connection fails midway.
ServerComparison compare_with_server(const sync::AccountConfig& account, store::Catalog& catalog,
                                     store::Id account_id);

}  // namespace imapkeep::cli
