// Mailboxes a server lists but that hold no mail and take none (issue 12,
// provider quirks). Backup skips them with a note, restore never CREATEs or
// APPENDs into them; neither is an error.
//
// Quirk(O365): Exchange Online (Microsoft 365, Outlook.com) keeps a system
// folder "Files" at the top of every mailbox: copies of attachments without
// headers, for Delve and SharePoint, not mail ("messages with no sender",
// imapsync FAQ.Office365). It is hidden from IMAP clients but sometimes
// listed; CREATE of that name answers "NO Folder name is reserved". No user
// folder can have the name, so the name alone tells it on that server.
#pragma once

#include <imapkeep/imap/client.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace imapkeep::sync {

// The server is Microsoft Exchange: its greeting ("The Microsoft Exchange
// IMAP4 service is ready.") or a capability only Exchange announces.
bool is_microsoft_exchange(imap::Client& client);

// Why the mailbox `name` (decoded, as LIST gave it) holds no mail on the
// server of `client`, or nullopt for an ordinary mailbox. One sentence,
// e.g. "Microsoft 365 reserves the folder Files for copies of attachments,
// not mail".
std::optional<std::string> reserved_mailbox(imap::Client& client, std::string_view name);

}  // namespace imapkeep::sync
