// Adopting a pre-0008 Gmail store's label-folder files as All Mail's copies.
#include "sync/gmail_adopt.hpp"

#include <ctime>
#include <imapkeep/store/flags.hpp>
#include <imapkeep/util/imap_date.hpp>
#include <map>
#include <set>
#include <tuple>

namespace imapkeep::sync {

namespace {

// Message-ID, RFC822.SIZE, INTERNALDATE: what identifies a message across
// mailboxes without its bytes.
using Key = std::tuple<std::string, std::uint64_t, std::int64_t>;

// The stored copies of label mailboxes, by key; a key held by different
// bytes maps to nothing (ambiguous).
std::map<Key, std::optional<store::MessageRecord>> stored_copies(store::Catalog& catalog,
                                                                 const GmailLayout& layout,
                                                                 store::Id account_id) {
    std::map<Key, std::optional<store::MessageRecord>> out;
    for (const auto& mb : catalog.mailboxes(account_id)) {
        if (mb.name == layout.all || layout.trash_and_junk.count(mb.name)) continue;
        for (auto& m : catalog.messages(mb.id)) {
            if (m.message_id.empty() || m.sha256.empty()) continue;
            Key key{m.message_id, m.size, m.internaldate};
            auto [it, inserted] = out.emplace(key, m);
            if (!inserted && it->second && it->second->sha256 != m.sha256) it->second.reset();
        }
    }
    return out;
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
    const std::string items = std::string("(UID RFC822.SIZE INTERNALDATE FLAGS ") +
                              kGmailFetchItems + " BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])";
    client.uid_fetch(asked, items, [&](imap::FetchData& d) {
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
    return out;
}

}  // namespace

std::size_t adopt_stored_copies(AccountRun& run, imap::Client& client, store::Catalog& catalog,
                                store::MessageStore& messages, LabelView& labels,
                                const store::MailboxRecord& all,
                                std::vector<std::pair<std::uint32_t, std::uint64_t>>& wanted) {
    if (wanted.empty() || !run.gmail) return 0;
    const auto stored = stored_copies(catalog, *run.gmail, run.account_id);
    if (stored.empty()) return 0;  // the usual case: no label mailbox in the store
    const auto listed = list_keys(client, wanted);
    std::map<Key, int> seen;
    for (const auto& [uid, l] : listed) ++seen[l.key];

    std::vector<store::MessageRecord> rows;
    std::vector<GmailFetched> gmail;
    const std::string account = run.account.name;
    std::set<std::uint32_t> adopted;
    for (const auto& [uid, l] : listed) {
        if (std::get<0>(l.key).empty() || !l.gmail || seen[l.key] != 1) continue;
        auto it = stored.find(l.key);
        if (it == stored.end() || !it->second) continue;
        adopted.insert(uid);
        // A dry run counts what the run would adopt, and touches nothing.
        if (run.options.dry_run) continue;
        if (rows.empty()) catalog.set_files_pending(all.id, true);  // a kill leaves links to sweep
        store::MessageRecord m = *it->second;
        auto link = messages.link_into_folder(messages.locate(m.file), account, all.folder);
        link = messages.set_uid(link, uid);
        m.file = messages.set_flags(link, l.flags);
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
