// A LIST answer that names one mailbox more than once, with the same bytes.
// RFC 5258 §3 has a server return each name once; servers repeat names anyway
// (Cyrus #816: "Top-level shared mailboxes appear twice in LIST response with
// alt_namespace"; Cyrus #96: LIST duplicating INBOX; K-9 Mail filters
// duplicate names, thunderbird-android#4271). Synced once per entry, the
// mailbox would get two workers at once, each downloading its new mail.
#pragma once

#include <imapkeep/imap/types.hpp>
#include <vector>

namespace imapkeep::sync {

// Keeps one entry per wire name (raw_name), in LIST's order: the first
// selectable one, else the first.
void drop_repeated_entries(std::vector<imap::ListEntry>& entries);

}  // namespace imapkeep::sync
