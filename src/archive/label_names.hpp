// Private to the archive layer: Gmail labels (X-GM-LABELS wire form:
// "\Inbox", "Work", modified UTF-7) outside Gmail, as mailbox names (restore's
// "folders" mode, a Maildir export's label folders) and as the header Google
// Takeout writes into its mbox files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace imapkeep::archive::detail {

// The mailbox name (UTF-8) a label stands for outside Gmail: "\Inbox" INBOX,
// "\Sent" "Sent", any other system label its name without the "\", a user
// label its decoded name (its bytes when they are no modified UTF-7). Levels
// are separated by "/", as Gmail nests labels.
std::string label_folder_name(const std::string& label);

// A label as Gmail's web interface (and Takeout) names it: "\Inbox" Inbox,
// "\Draft" Drafts, "\Sent" Sent, "\Important", "\Starred", "\Spam", "\Trash"
// by their names, a user label decoded.
std::string takeout_label(const std::string& label);

// A message's labels as Takeout's X-Gmail-Labels value: Inbox,Work,"a,b":
// the system labels first, else in the given order, comma separated, each a
// CSV field (RFC 4180: one with a comma or a quote is quoted). Control
// characters (a CR or LF in a label would start a header of its own) become
// spaces.
std::string takeout_labels(const std::vector<std::string>& labels);

// Takeout's header lines for an mbox message, CRLF-ended, to put before the
// message's own header: "X-GM-THRID: <id>" (when `thread_id` is not 0) and
// "X-Gmail-Labels: " and takeout_labels().
std::string takeout_headers(std::uint64_t thread_id, const std::vector<std::string>& labels);

}  // namespace imapkeep::archive::detail
