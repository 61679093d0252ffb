// Gmail (X-GM-EXT-1) in the store: All Mail is the one copy of each message,
// and each label is a Maildir folder of hard links to it (private to the sync
// layer). Google's "IMAP Extensions" page: X-GM-MSGID, X-GM-THRID and
// X-GM-LABELS are FETCH items; labels are astrings in modified UTF-7, system
// labels "\Inbox", "\Sent", "\Draft", "\Important", "\Starred"; the special
// mailboxes are found by their SPECIAL-USE attribute (RFC 6154), never by
// their (localized) names.
#pragma once

#include <cstdint>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/imap/types.hpp>
#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/sync/gmail_layout.hpp>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace imapkeep::sync {

// Adds the FETCH items that carry a message's Gmail ids and labels.
inline imap::FetchItems& add_gmail_items(imap::FetchItems& items) {
    return items.gmail_msgid().gmail_thrid().gmail_labels();
}

// What a FETCH said of a message's Gmail side.
struct GmailFetched {
    std::uint64_t msgid = 0;
    std::uint64_t thrid = 0;
    std::vector<std::string> labels;
};
std::optional<GmailFetched> gmail_fetched(const imap::FetchData& d);

// Which labels a backup of All Mail is narrowed to. On a Gmail account INBOX,
// Sent or "Work" are label views of All Mail, never synced as such
// (gmail_backs_up): the config's `mailboxes` (and `exclude`) or --mailbox
// (BackupOptions::mailbox_filter) naming one mean the messages with that
// label, and All Mail is synced for them alone. A message is kept when the
// mailbox (label_mailbox) of one of its labels is selected by the config's
// patterns and, when there is a --mailbox, by its patterns too.
struct LabelFilter {
    std::vector<std::string> mailboxes;  // the config's LIST patterns
    std::vector<std::string> exclude;    // the config's exclusions
    std::vector<std::string> filter;     // --mailbox patterns; empty: none given
    // The patterns that chose label views, for the report; empty: All Mail
    // is synced whole (no filter at all).
    std::vector<std::string> named;

    bool empty() const { return named.empty(); }
    bool keeps(const std::string& mailbox, const std::string& delimiter) const;
};

// Of `wanted` (All Mail's new UIDs and sizes, in UID order) keeps the
// messages `filter` keeps, asking the server for their X-GM-LABELS (no body).
// Returns the first UID dropped, if any: All Mail's mark must not pass it,
// so a message that gains a label in scope later, or a run with a wider
// scope, downloads the rest. Throws what the client throws.
std::optional<std::uint32_t> keep_labelled(imap::Client& client, const GmailLayout& layout,
                                           const LabelFilter& filter,
                                           std::vector<std::pair<std::uint32_t, std::uint64_t>>& wanted);

// The label folders of one account's All Mail copies. Every method runs
// inside the caller's durable step (AccountRun::durable_step). Catalog first,
// files after: a change of labels, or of the copy's name, only records the
// new state and marks the message unlinked; link() then makes its links in a
// later step, from the committed copy, so a link never names a file the
// catalog does not have (no orphan link after a kill). Within a step, links
// are made or removed first, made durable by sync_committed(), and the rows
// that name them commit after (invariants 2 and 3); replayed after a kill, a
// link already there is kept and one that moved is found by
// MessageStore::locate.
class LabelView {
  public:
    LabelView(const GmailLayout& layout, store::Catalog& catalog, store::MessageStore& messages,
              std::string account);

    // Records a new message's Gmail ids and labels (its first label-history
    // entry), unlinked: link() makes its links in a later step, once the
    // copy is cataloged (MailboxSync::link_pending).
    void record(store::Id id, const GmailFetched& gmail, std::int64_t at);
    // Makes the links of messages the catalog has as unlinked
    // (Catalog::unlinked_gmail_messages): one per label, same inode as the
    // copy, named as the copy is.
    void link(const std::vector<store::Id>& ids);
    // New labels for a message already recorded (label history); unlinked
    // until link().
    void relabel(store::Id id, const std::vector<std::string>& labels, std::int64_t at);
    // The copy was renamed (flags, UID): unlinked until link() makes the
    // links follow its new name.
    void follow(store::Id id);
    // The copy left All Mail: its links go (its label history stays).
    void drop(store::Id id);
    // Label folders this view emptied (a label removed or renamed) are
    // removed; INBOX never, nor one that still holds a file. Call at the end
    // of the durable step that removed the links: a kill before its commit
    // leaves rows naming links in a removed folder, which remove() takes as
    // already gone.
    void remove_emptied_folders();

  private:
    void make_links(store::Id id, const std::string& copy_file,
                    const std::vector<std::string>& labels);
    std::string folder_of(const std::string& label);
    std::string folder_of_all();

    const GmailLayout& m_layout;
    store::Catalog& m_catalog;
    store::MessageStore& m_messages;
    std::string m_account;
    std::set<std::string> m_emptied;
};

}  // namespace imapkeep::sync
