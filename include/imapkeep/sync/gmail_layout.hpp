// Gmail (X-GM-EXT-1, Google's "IMAP Extensions" page): which mailbox is All
// Mail and which shows each system label, found by SPECIAL-USE attributes
// (RFC 6154), never by the (localized) names. Used by the backup (All Mail as
// the one copy, label folders as links) and by restore (labels back).
#pragma once

#include <imapkeep/imap/types.hpp>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace imapkeep::sync {

// Which mailbox is which on a Gmail server.
struct GmailLayout {
    std::string all;        // All Mail (\All), UTF-8 name
    std::string delimiter;  // of All Mail: the hierarchy's
    // System label -> the mailbox that shows it, from SPECIAL-USE:
    // "\Sent" -> "[Gmail]/Sent Mail", "\Starred" -> the \Flagged mailbox...
    std::map<std::string, std::string> system;
    std::set<std::string> trash_and_junk;  // the \Trash and \Junk mailboxes
};

// The layout when the server offers X-GM-EXT-1 and lists a \All mailbox;
// nullopt otherwise (the account syncs mailbox by mailbox).
std::optional<GmailLayout> gmail_layout(bool has_extension,
                                        const std::vector<imap::ListEntry>& entries);

// Whether a backup syncs the mailbox `name` of a Gmail account: All Mail holds
// every message once and the label mailboxes (INBOX, Sent, user labels) show
// the same messages again, so only All Mail is synced; \Trash and \Junk hold
// messages All Mail does not, synced when `trash_and_junk` (the config) asks.
bool gmail_backs_up(const GmailLayout& layout, const std::string& name, bool trash_and_junk);

// The mailbox (UTF-8 name) whose folder shows `label` (wire form): "\Inbox" is
// INBOX, a system label its special mailbox (or its name without the "\" when
// the server lists none), a user label the mailbox of that name.
std::string label_mailbox(const GmailLayout& layout, const std::string& label);

}  // namespace imapkeep::sync
