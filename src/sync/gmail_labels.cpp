// Gmail's labels as Maildir folders of hard links to All Mail's copies.
#include "sync/gmail_labels.hpp"

#include <strings.h>

#include <algorithm>
#include <imapkeep/sync/plan.hpp>
#include <imapkeep/util/utf7.hpp>
#include <utility>

namespace imapkeep::sync {

namespace {

// RFC 6154 attributes -> the system label their mailbox shows.
// Quirk(Gmail): \Important and \Starred are labels like any other in
// X-GM-LABELS, shown by the \Important mailbox (Gmail's own attribute) and
// the \Flagged one.
constexpr std::pair<const char*, const char*> kSpecialUse[] = {
    {"\\Sent", "\\Sent"},       {"\\Drafts", "\\Draft"}, {"\\Important", "\\Important"},
    {"\\Flagged", "\\Starred"}, {"\\Trash", "\\Trash"},  {"\\Junk", "\\Spam"}};

std::vector<std::string> sorted_unique(std::vector<std::string> labels) {
    std::sort(labels.begin(), labels.end());
    labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
    return labels;
}

}  // namespace

std::optional<GmailLayout> gmail_layout(bool has_extension,
                                        const std::vector<imap::ListEntry>& entries) {
    if (!has_extension) return std::nullopt;
    GmailLayout layout;
    // Quirk(Gmail): "[Gmail]/All Mail" is "[Google Mail]/Alle Nachrichten"
    // and so on, by the account's language: only the attributes say which.
    for (const auto& e : entries) {
        if (e.has_attribute("\\All") && layout.all.empty()) {
            layout.all = e.name;
            layout.delimiter = e.delimiter;
        }
        for (const auto& [use, label] : kSpecialUse)
            if (e.has_attribute(use)) layout.system.emplace(label, e.name);
        if (e.has_attribute("\\Trash") || e.has_attribute("\\Junk"))
            layout.trash_and_junk.insert(e.name);
    }
    if (layout.all.empty()) return std::nullopt;  // All Mail hidden from IMAP: no one copy
    return layout;
}

bool gmail_backs_up(const GmailLayout& layout, const std::string& name, bool trash_and_junk) {
    return name == layout.all || (trash_and_junk && layout.trash_and_junk.count(name) > 0);
}

std::string label_mailbox(const GmailLayout& layout, const std::string& label) {
    if (strcasecmp(label.c_str(), "\\Inbox") == 0) return "INBOX";
    if (!label.empty() && label[0] == '\\') {
        auto it = layout.system.find(label);
        return it != layout.system.end() ? it->second : label.substr(1);
    }
    // User labels come in modified UTF-7, like mailbox names.
    return util::utf7_decode(label).value_or(label);
}

std::optional<GmailFetched> gmail_fetched(const imap::FetchData& d) {
    if (!d.gm_msgid || !d.gm_labels) return std::nullopt;
    return GmailFetched{*d.gm_msgid, d.gm_thrid.value_or(0), *d.gm_labels};
}

bool LabelFilter::keeps(const std::string& mailbox, const std::string& delimiter) const {
    return mailbox_selected(mailbox, delimiter, mailboxes, exclude) &&
           (filter.empty() || mailbox_selected(mailbox, delimiter, filter, {}));
}

std::optional<std::uint32_t> keep_labelled(imap::Client& client, const GmailLayout& layout,
                                           const LabelFilter& filter,
                                           std::vector<std::pair<std::uint32_t, std::uint64_t>>& wanted) {
    if (wanted.empty()) return std::nullopt;
    UidSet asked, chosen;
    for (const auto& w : wanted) asked.add(Uid(w.first));
    const std::string delimiter = layout.delimiter.empty() ? "/" : layout.delimiter;
    client.uid_fetch(asked, imap::FetchItems().uid().gmail_labels(), [&](imap::FetchData& d) {
        if (!d.uid || !d.gm_labels || !asked.contains(*d.uid)) return;
        for (const auto& label : *d.gm_labels)
            if (filter.keeps(label_mailbox(layout, label), delimiter)) {
                chosen.add(*d.uid);
                return;
            }
    });
    std::optional<std::uint32_t> first_dropped;
    std::erase_if(wanted, [&](const auto& w) {
        if (chosen.contains(Uid(w.first))) return false;
        if (!first_dropped) first_dropped = w.first;
        return true;
    });
    return first_dropped;
}

LabelView::LabelView(const GmailLayout& layout, store::Catalog& catalog,
                     store::MessageStore& messages, std::string account)
    : m_layout(layout), m_catalog(catalog), m_messages(messages), m_account(std::move(account)) {}

std::string LabelView::folder_of(const std::string& label) {
    const std::string delimiter = m_layout.delimiter.empty() ? "/" : m_layout.delimiter;
    return m_messages.folder_for(label_mailbox(m_layout, label), delimiter);
}

void LabelView::record(store::Id id, const GmailFetched& gmail, std::int64_t at) {
    m_catalog.set_gmail_message({id, gmail.msgid, gmail.thrid, sorted_unique(gmail.labels)}, at);
}

void LabelView::link(const std::vector<store::Id>& ids) {
    for (auto id : ids) {
        auto message = m_catalog.message_by_id(id);
        auto gmail = m_catalog.gmail_message(id);
        if (!message || !gmail || message->expunged_at) {
            m_catalog.set_label_links(id, {});
            continue;
        }
        make_links(id, m_messages.locate(message->file), gmail->labels);
    }
}

void LabelView::relabel(store::Id id, const std::vector<std::string>& labels, std::int64_t at) {
    auto known = m_catalog.gmail_message(id);
    m_catalog.set_gmail_message(
        {id, known ? known->msgid : 0, known ? known->thrid : 0, sorted_unique(labels)}, at);
}

void LabelView::follow(store::Id id) {
    // The same labels again: no history entry, just unlinked.
    if (auto known = m_catalog.gmail_message(id)) m_catalog.set_gmail_message(*known, 0);
}

void LabelView::drop(store::Id id) {
    for (const auto& link : m_catalog.label_links(id)) {
        m_messages.remove(link.file);
        m_emptied.insert(folder_of(link.label));
    }
    m_catalog.set_label_links(id, {});
}

// Old links go first: a link under the copy's old name (other flags) shares
// its unique name with the new one, and remove() finds a moved file by that
// name (in the link's own folder and tree only: replayed after the link went,
// it never reaches an attic file of that name a row names). Labels whose
// mailbox is All Mail itself, or that name no folder apart from the copy's,
// get no link.
void LabelView::make_links(store::Id id, const std::string& copy_file,
                           const std::vector<std::string>& labels) {
    const std::string all_folder = folder_of_all();
    std::vector<store::LabelLink> wanted;
    std::set<std::string> folders;  // two labels may name one folder: one link
    for (const auto& label : labels) {
        const std::string folder = folder_of(label);
        if (folder == all_folder || !folders.insert(folder).second) continue;
        wanted.push_back({label, m_messages.path_in_folder(copy_file, m_account, folder)});
    }
    auto current = m_catalog.label_links(id);
    if (current.size() == wanted.size() &&
        std::equal(
            current.begin(), current.end(), wanted.begin(),
            [](const auto& a, const auto& b) { return a.label == b.label && a.file == b.file; }))
        return m_catalog.set_label_links(id, wanted);  // marks it linked
    for (const auto& link : current) {
        bool kept = std::any_of(wanted.begin(), wanted.end(),
                                [&](const auto& w) { return w.file == link.file; });
        if (kept) continue;
        m_messages.remove(link.file);
        m_emptied.insert(folder_of(link.label));
    }
    for (const auto& w : wanted)
        m_messages.link_into_folder(copy_file, m_account, folder_of(w.label));
    m_catalog.set_label_links(id, wanted);
}

std::string LabelView::folder_of_all() {
    return m_messages.folder_for(m_layout.all,
                                 m_layout.delimiter.empty() ? "/" : m_layout.delimiter);
}

void LabelView::remove_emptied_folders() {
    for (const auto& folder : m_emptied)
        if (!folder.empty()) m_messages.remove_folder(m_account, folder);
    m_emptied.clear();
}

}  // namespace imapkeep::sync
