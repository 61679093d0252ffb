// A Gmail store from before Gmail support (schema 0008): the label mailboxes
// (INBOX, Work, Sent) were backed up as plain mailboxes, All Mail left out.
// Their files become All Mail's copies without a download (private to the
// sync layer).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "sync/mailbox_sync.hpp"

namespace imapkeep::sync {

// Of `wanted` (All Mail's new UIDs and sizes), makes each message that
// matches a stored message of a label mailbox unambiguously All Mail's copy:
// its file is linked into All Mail's folder (the same inode, under a unique
// name of its own with its All Mail UID and flags: never the old file's, which
// retire_label_mailbox and locate() go by), made durable, and cataloged with its Gmail ids and
// labels in one durable step (LabelView::record; the label links follow in
// link_pending). A match: the same Message-ID, RFC822.SIZE and INTERNALDATE,
// found once among the UIDs asked and held by stored rows of one SHA-256 only
// (the same message in two label folders is one); for a stored row without a
// Message-ID, the X-GM-MSGID the catalog has for it. The stored rows are the
// live ones of label mailboxes, and the expunged ones (live or retired label
// mailboxes: the interim Gmail code retired them before All Mail had rows)
// whose file is still in the attic, while All Mail was never synced past
// its start (its mark at most 1): such a file is linked too, once its bytes
// are checked against the row's SHA-256 (the attic row keeps its file, the
// same inode: its bytes are on disk once). No Message-ID, a key two
// All Mail messages share, or stored copies that differ: not adopted, left in
// `wanted` to download (never lose a message). The stored rows stay as they
// are (retire_label_mailboxes ends them once All Mail covers them). Removes
// the adopted UIDs from `wanted`; returns how many. A dry run only counts
// them: it removes them from `wanted` (no download) and changes nothing.
// Throws what the client, the catalog or the store throw (nothing is
// adopted then).
std::size_t adopt_stored_copies(AccountRun& run, imap::Client& client, store::Catalog& catalog,
                                store::MessageStore& messages, LabelView& labels,
                                const store::MailboxRecord& all,
                                std::vector<std::pair<std::uint32_t, std::uint64_t>>& wanted);

// Ends a label mailbox a store from before Gmail support has live (a listed
// label view: not deleted on the server, only no longer synced as a
// mailbox; reconcile leaves it alone), once All Mail holds each of its
// messages (same SHA-256), never before: nullopt while it does not. In one
// durable step its rows go as a deleted mailbox's do (`expunged`: keep moves
// a file to the attic, mirror removes it), except a file that is now one of
// All Mail's label links (a store adopted before copies got names of their
// own, where the UIDs agreed: the old file is the link): its row goes, the
// file stays. The mailbox is marked deleted.
std::optional<MailboxReport> retire_label_mailbox(AccountRun& run, store::Catalog& catalog,
                                                  store::MessageStore& messages,
                                                  store::MailboxRecord record,
                                                  store::Id all_mailbox_id);

}  // namespace imapkeep::sync
