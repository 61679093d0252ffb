// Private to restore: the labels of a Gmail backup (schema 7, the catalog's
// gmail_message rows of All Mail) on the way back to a server.
// - To a Gmail target (X-GM-EXT-1 and a \All mailbox): each message is
//   APPENDed once, into the target's All Mail, then gets its labels with
//   UID STORE +X-GM-LABELS (Google's IMAP Extensions page).
// - To any other target, by the target account's `restore_labels` key:
//   "folders" (default) makes one mailbox per label holding its messages
//   (those without a label stay in All Mail); "keywords" restores All Mail
//   alone, each label a keyword of its messages.
#pragma once

#include <cstdint>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/store/catalog.hpp>
#include <optional>
#include <string>
#include <vector>

namespace imapkeep::archive::detail {

// The labels a message had at `at` (label history), or now when unset;
// nullopt when it is no Gmail message (or had no labels recorded by then).
std::optional<std::vector<std::string>> labels_of(store::Catalog& catalog, store::Id message_id,
                                                  std::optional<std::int64_t> at);

// Whether the list holds messages with Gmail labels (a Gmail All Mail).
bool has_labels(store::Catalog& catalog, const std::vector<store::MessageRecord>& list);

// A mailbox the "folders" mode makes: a label's name ("\Sent" becomes
// "Sent", "\Inbox" INBOX, a user label its decoded name) and its messages.
struct LabelFolder {
    std::string name;
    std::vector<store::MessageRecord> messages;
};
// `all_name`: the source All Mail, which keeps the messages with no label.
std::vector<LabelFolder> label_folders(store::Catalog& catalog, const std::string& all_name,
                                       const std::vector<store::MessageRecord>& list,
                                       std::optional<std::int64_t> at);

// "keywords" mode: each label added to the message's flags as a keyword
// (label_keyword).
void add_label_keywords(store::Catalog& catalog, std::vector<store::MessageRecord>& list,
                        std::optional<std::int64_t> at);
// A label as a keyword (an atom, RFC 3501 flag-keyword): "\Inbox" -> "$Inbox",
// "My label" -> "My_label"; characters an atom cannot hold become "_".
std::string label_keyword(const std::string& label);

// The STORE +X-GM-LABELS.SILENT that adds `labels` (imap::StoreFlags sends
// system labels as they are, "\Inbox", the others as quoted strings).
// nullopt when one cannot be sent as it is (a control or 8-bit character:
// labels come in modified UTF-7).
std::optional<imap::StoreFlags> label_store(const std::vector<std::string>& labels);

// A label under a restore's --prefix (RestoreOptions::prefix), for a Gmail
// target: the mailbox the "folders" mode would make of it (label_names.hpp)
// under the prefix (target_mailbox_name), as a user label in modified UTF-7
// ("Restored/INBOX", "Restored/Work"): nothing restored shows in the live
// Inbox or labels. Without a prefix the label as it is.
std::string prefixed_label(const std::string& label, const std::string& prefix,
                           const std::string& target_delimiter);

// The target's All Mail when it is Gmail, else "".
std::string gmail_all_mailbox(imap::Client& client, const std::vector<imap::ListEntry>& listed);

}  // namespace imapkeep::archive::detail
