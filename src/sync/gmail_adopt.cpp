// Adopting a pre-0008 Gmail store's label-folder files as All Mail's copies.
#include "sync/gmail_adopt.hpp"

#include <ctime>
#include <imapkeep/store/message_reader.hpp>
#include <imapkeep/store/flags.hpp>
#include <imapkeep/util/imap_date.hpp>
#include <map>
#include <set>
#include <tuple>

#include "sync/fetched_items.hpp"

namespace imapkeep::sync {

namespace {

// Message-ID, RFC822.SIZE, INTERNALDATE: what identifies a message across
// mailboxes without its bytes.
using Key = std::tuple<std::string, std::uint64_t, std::int64_t>;

// Stored copies by a key; a key held by different bytes maps to nothing
// (ambiguous). Of the same bytes a live file is preferred to an attic one.
template <typename K>
void add_copy(std::map<K, std::optional<store::MessageRecord>>& out, const K& key, const store::MessageRecord& m) {
    auto [it, inserted] = out.emplace(key, m);
    if (inserted || !it->second) return;
    if (it->second->sha256 != m.sha256)
        it->second.reset();
    else if (it->second->expunged_at && !m.expunged_at)
        it->second = m;
}

struct StoredCopies {
    std::map<Key, std::optional<store::MessageRecord>> by_key;
    // Rows without a Message-ID that the catalog knows the X-GM-MSGID of.
    std::map<std::uint64_t, std::optional<store::MessageRecord>> by_msgid;
    bool empty() const { return by_key.empty() && by_msgid.empty(); }
    std::optional<store::MessageRecord> find(const Key& key, std::uint64_t msgid) const {
        if (auto it = by_msgid.find(msgid); it != by_msgid.end() && it->second) return it->second;
        if (std::get<0>(key).empty()) return std::nullopt;
        auto it = by_key.find(key);
        return it == by_key.end() ? std::nullopt : it->second;
    }
};

// An expunged row whose message is still in the attic (keep).
bool in_attic(store::MessageStore& messages, const store::MessageRecord& m) {
    if (!m.expunged_at || m.file.rfind("attic/", 0) != 0) return false;
    try {
        messages.open_read(store::message_ref(m));
        return true;
    } catch (const store::StoreError&) {
        return false;  // gone, or unreadable: nothing to adopt from either way
    }
}

// The stored copies of label mailboxes: their live rows; `with_attic`: also
// (our own interim Gmail code retired label mailboxes before All Mail had
// their rows) the expunged rows of live or retired label mailboxes whose
// file is in the attic.
StoredCopies stored_copies(store::Catalog& catalog, store::MessageStore& messages, const GmailLayout& layout,
                           store::Id account_id, bool with_attic) {
    StoredCopies out;
    for (const auto& mb : catalog.mailboxes(account_id, with_attic)) {
        if (mb.name == layout.all || layout.trash_and_junk.count(mb.name)) continue;
        for (auto& m : with_attic ? catalog.all_messages(mb.id) : catalog.messages(mb.id)) {
            if (m.sha256.empty() || (m.expunged_at && !in_attic(messages, m))) continue;
            if (!m.message_id.empty()) {
                add_copy(out.by_key, Key{m.message_id, m.size, m.internaldate}, m);
            } else if (auto gmail = catalog.gmail_message(m.id); gmail && gmail->msgid) {
                add_copy(out.by_msgid, gmail->msgid, m);
            }
        }
    }
    return out;
}

// An attic file whose bytes are the row's (size and SHA-256, read in the
// form the row names): never adopt what does not match.
bool attic_file_matches(store::MessageStore& messages, const store::MessageRecord& m) {
    try {
        auto source = messages.open_read(store::message_ref(m));
        const auto found = store::digest(*source);
        return found.sha256 == m.sha256 && found.size == m.size;
    } catch (const std::exception&) {
        return false;
    }
}

// What All Mail says of one message: enough to catalog it without its body.
struct Listed {
    Key key;
    int zone = 0;
    std::vector<std::string> flags;
    std::optional<GmailFetched> gmail;
};

std::map<std::uint32_t, Listed> list_keys(
    imap::Client& client, const std::vector<std::pair<std::uint32_t, std::uint64_t>>& wanted) {
    UidSet asked;
    for (const auto& w : wanted) asked.add(Uid(w.first));
    std::map<std::uint32_t, Listed> out;
    imap::FetchItems items;
    add_gmail_items(items.uid().rfc822_size().internaldate().flags()).header_fields_peek({"MESSAGE-ID"});
    // A server may split one message's items over responses (fetched_items.hpp).
    auto whole = [](const imap::FetchData& d) {
        return d.rfc822_size && d.internaldate && d.flags && !d.sections.empty() && d.gm_msgid && d.gm_labels;
    };
    ConsecutiveItems joined(whole, [&](const imap::FetchData& d) {
        if (!d.uid || !asked.contains(*d.uid) || !d.rfc822_size || !d.internaldate || !d.flags)
            return;
        auto date = util::parse_imap_datetime(*d.internaldate);
        if (!date) return;
        std::string message_id;
        for (const auto& [section, text] : d.sections) message_id = parse_message_id(text);
        out[d.uid->value] =
            Listed{Key{message_id, *d.rfc822_size, date->epoch}, date->zone_offset_seconds,
                   store::normalize_flags(*d.flags), gmail_fetched(d)};
    });
    client.uid_fetch(asked, items, [&](imap::FetchData& d) { joined.add(d); });
    joined.finish();
    return out;
}

}  // namespace

std::size_t adopt_stored_copies(AccountRun& run, imap::Client& client, store::Catalog& catalog,
                                store::MessageStore& messages, LabelView& labels,
                                const store::MailboxRecord& all,
                                std::vector<std::pair<std::uint32_t, std::uint64_t>>& wanted) {
    if (wanted.empty() || !run.gmail) return 0;
    // The attic is looked at only while All Mail was never synced past its
    // start (the interim store's shape): a converted store's attic holds
    // nothing All Mail lacks, and every later run would read it whole.
    const bool with_attic = all.uidnext <= 1;
    const auto stored = stored_copies(catalog, messages, *run.gmail, run.account_id, with_attic);
    if (stored.empty()) return 0;  // the usual case: no label mailbox in the store
    const auto listed = list_keys(client, wanted);
    std::map<Key, int> seen;
    for (const auto& [uid, l] : listed) ++seen[l.key];

    std::vector<store::MessageRecord> rows;
    std::vector<GmailFetched> gmail;
    const std::string account = run.account.name;
    std::set<std::uint32_t> adopted;
    std::map<std::uint64_t, int> seen_msgid;
    for (const auto& [uid, l] : listed)
        if (l.gmail) ++seen_msgid[l.gmail->msgid];
    for (const auto& [uid, l] : listed) {
        if (!l.gmail || seen_msgid[l.gmail->msgid] != 1) continue;
        const auto found = stored.find(seen[l.key] == 1 ? l.key : Key{}, l.gmail->msgid);
        if (!found) continue;
        store::MessageRecord m = *found;
        // A dry run counts what the run would adopt, and touches nothing.
        if (run.options.dry_run) {
            adopted.insert(uid);
            continue;
        }
        if (m.expunged_at && !attic_file_matches(messages, m)) continue;  // downloaded instead
        if (rows.empty()) catalog.set_files_pending(all.id, true);  // a kill leaves files to sweep
        // The same inode, live file or attic one (the attic row keeps its
        // name): the bytes stay on disk once. A name of its own: its label
        // links never share one with the old label or attic files
        // (retire_label_mailbox and locate() find those by it).
        m.file = messages.link_as_new(messages.locate(m.file), account, all.folder, uid, l.flags);
        adopted.insert(uid);
        m.id = 0;
        m.mailbox_id = all.id;
        m.uidvalidity = all.uidvalidity;
        m.uid = uid;
        m.internaldate_zone = l.zone;
        m.flags = l.flags;
        m.modseq = 0;
        m.added_at = static_cast<std::int64_t>(std::time(nullptr));
        m.expunged_at.reset();
        rows.push_back(std::move(m));
        gmail.push_back(*l.gmail);
    }
    std::erase_if(wanted, [&](const auto& w) { return adopted.count(w.first) > 0; });
    if (rows.empty()) return adopted.size();
    run.durable_step(catalog, messages, [&] {
        const auto ids = catalog.add_messages(rows);
        for (std::size_t i = 0; i < rows.size(); ++i)
            labels.record(ids[i], gmail[i], rows[i].added_at);
        catalog.set_files_pending(all.id, false);
    });
    return rows.size();
}

std::optional<MailboxReport> retire_label_mailbox(AccountRun& run, store::Catalog& catalog,
                                                  store::MessageStore& messages,
                                                  store::MailboxRecord record,
                                                  store::Id all_mailbox_id) {
    std::set<std::string> in_all, links;
    for (const auto& m : catalog.messages(all_mailbox_id)) {
        in_all.insert(m.sha256);
        for (const auto& link : catalog.label_links(m.id)) links.insert(link.file);
    }
    const auto live = catalog.messages(record.id);
    for (const auto& m : live)
        if (m.sha256.empty() || !in_all.count(m.sha256)) return std::nullopt;
    MailboxReport r;
    r.name = record.name;
    r.path = "now in All Mail";
    const auto at = static_cast<std::int64_t>(std::time(nullptr));
    run.durable_step(catalog, messages, [&] {
        for (const auto& m : live) {
            if (links.count(m.file)) {
                catalog.delete_message(m.id);
                continue;
            }
            auto file = messages.locate(m.file);
            if (run.account.expunged == ExpungedPolicy::Keep) {
                catalog.mark_expunged(m.id, at, messages.move_to_attic(file));
            } else {
                messages.remove(file);
                catalog.delete_message(m.id);
            }
        }
        record.deleted_at = at;
        catalog.save_mailbox(record);
        if (!record.folder.empty()) messages.remove_folder(run.account.name, record.folder);
    });
    return r;
}

}  // namespace imapkeep::sync
