// verify --server (verify_server.hpp).
#include "cli/verify_server.hpp"

#include <algorithm>
#include <cctype>
#include <imapkeep/imap/connect.hpp>
#include <imapkeep/sync/gmail_layout.hpp>
#include <imapkeep/sync/plan.hpp>
#include <map>
#include <optional>
#include <set>

#include "sync/gmail_labels.hpp"

namespace imapkeep::cli {

namespace {

std::vector<std::string> normalized(std::vector<std::string> flags) {
    std::vector<std::string> out;
    for (auto& f : flags) {
        std::transform(f.begin(), f.end(), f.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        if (f != "\\recent") out.push_back(std::move(f));
    }
    std::sort(out.begin(), out.end());
    return out;
}

// A problem of the whole mailbox.
MailboxDiff whole(const std::string& name, std::string problem) {
    MailboxDiff diff;
    diff.name = name;
    diff.problem = std::move(problem);
    return diff;
}

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

// Gmail, All Mail compared with the labels: of every message when All Mail
// is selected whole (an empty filter), else of the messages with the labels
// the config names (compare_with_server).
struct LabelScope {
    const sync::GmailLayout* layout = nullptr;
    sync::LabelFilter filter;
    std::size_t labelled = 0;  // the rows compared

    bool keeps(const std::vector<std::string>& labels) const {
        if (filter.empty()) return true;
        const std::string delimiter = layout->delimiter.empty() ? "/" : layout->delimiter;
        return std::any_of(labels.begin(), labels.end(), [&](const std::string& label) {
            return filter.keeps(sync::label_mailbox(*layout, label), delimiter);
        });
    }
};

struct ServerMessage {
    std::vector<std::string> flags;   // normalized
    std::vector<std::string> labels;  // sorted; with a LabelScope only
    bool in_scope = true;
};

std::map<std::uint32_t, ServerMessage> server_messages(imap::Client& client,
                                                       const imap::SelectData& selected,
                                                       const LabelScope* labels) {
    std::map<std::uint32_t, ServerMessage> server;
    if (selected.exists == 0) return server;
    UidSet all;
    std::uint32_t last =
        selected.uidnext && selected.uidnext->value > 1 ? selected.uidnext->value - 1 : 0xFFFFFFFFu;
    all.add_range(Uid{1}, Uid{last});
    auto items = imap::FetchItems().flags();
    if (labels) items.gmail_labels();
    client.uid_fetch(all, items, [&](imap::FetchData& f) {
        if (!f.uid) return;
        auto& m = server[f.uid->value];
        m.flags = normalized(f.flags.value_or(std::vector<std::string>{}));
        if (!labels) return;
        m.labels = sorted_unique(f.gm_labels.value_or(std::vector<std::string>{}));
        m.in_scope = labels->keeps(m.labels);
    });
    return server;
}

// `labels`: compare only the messages with those labels (on either side),
// and their labels too.
MailboxDiff compare_mailbox(imap::Client& client, store::Catalog& catalog,
                            const store::MailboxRecord& mb, const imap::MailboxName& listed,
                            LabelScope* labels) {
    MailboxDiff diff;
    diff.name = mb.name;
    imap::SelectData selected = client.select(listed, true);
    if (selected.uidvalidity.value != mb.uidvalidity) {
        diff.problem = "UIDVALIDITY differs (server " + std::to_string(selected.uidvalidity.value) +
                       ", backup " + std::to_string(mb.uidvalidity) + ")";
        return diff;
    }
    const auto server = server_messages(client, selected, labels);
    std::set<std::uint32_t> local;
    for (const auto& m : catalog.messages(mb.id)) {
        if (m.uidvalidity != mb.uidvalidity) continue;
        local.insert(m.uid);
        auto it = server.find(m.uid);
        std::optional<std::vector<std::string>> stored_labels;
        if (labels) {
            if (auto gmail = catalog.gmail_message(m.id))
                stored_labels = sorted_unique(gmail->labels);
            const bool stored_in_scope = stored_labels && labels->keeps(*stored_labels);
            if (!stored_in_scope && (it == server.end() || !it->second.in_scope)) continue;
            ++labels->labelled;
        }
        if (it == server.end())
            diff.gone_from_server.add(Uid{m.uid});
        else if (it->second.flags != normalized(m.flags))
            diff.flags_differ.add(Uid{m.uid});
        if (labels && it != server.end() && stored_labels != it->second.labels)
            diff.labels_differ.add(Uid{m.uid});
    }
    for (const auto& [uid, m] : server)
        if (m.in_scope && !local.count(uid)) diff.not_backed_up.add(Uid{uid});
    return diff;
}

// The label views (INBOX, Sent, user labels) `account.mailboxes` selects,
// as the backup chooses them; an empty filter when there are none, or when
// All Mail is selected whole.
sync::LabelFilter label_filter(imap::Client& client, const sync::AccountConfig& account,
                               const sync::GmailLayout& gmail, bool all_selected) {
    sync::LabelFilter filter{account.mailboxes, account.exclude, {}, {}};
    if (all_selected) return filter;
    for (const auto& pattern : account.mailboxes)
        for (const auto& entry : client.list("", pattern)) {
            if (!entry.selectable() || sync::gmail_backs_up(gmail, entry.name, true)) continue;
            if (!sync::mailbox_selected(entry.name, entry.delimiter, account.mailboxes,
                                        account.exclude))
                continue;
            if (std::find(filter.named.begin(), filter.named.end(), pattern) == filter.named.end())
                filter.named.push_back(pattern);
        }
    return filter;
}

}  // namespace

ServerComparison compare_with_server(const sync::AccountConfig& account, store::Catalog& catalog,
                                     store::Id account_id) {
    auto client = imap::connect_and_login(account.connect);
    ServerComparison result;
    auto& diffs = result.diffs;
    std::map<std::string, imap::MailboxName>
        on_server;  // name (as the backup knows it) -> wire name
    // Gmail: the backup holds All Mail (and Trash and Spam when asked), not
    // the label mailboxes, which are links to it.
    const auto everything = client->list("", "*");
    const auto gmail = sync::gmail_layout(client->has_capability("X-GM-EXT-1"), everything);
    for (const auto& pattern : account.mailboxes) {
        auto entries = client->list("", pattern);
        sync::distinguish_twins(
            entries, [&](const std::string& name) { return client->encode_mailbox(name); });
        for (const auto& entry : entries) {
            if (!entry.selectable()) continue;
            if (gmail && !sync::gmail_backs_up(*gmail, entry.name, account.gmail_trash_and_junk))
                continue;
            // The same selection rule as the backup: the pattern was matched by
            // the server, exclusions are ours.
            if (sync::mailbox_selected(entry.name, entry.delimiter, account.mailboxes,
                                       account.exclude))
                on_server.emplace(entry.name, entry.mailbox());
        }
    }
    std::optional<LabelScope> labels;
    if (gmail) {
        auto filter = label_filter(*client, account, *gmail, on_server.count(gmail->all) > 0);
        auto all = std::find_if(everything.begin(), everything.end(),
                                [&](const imap::ListEntry& e) { return e.name == gmail->all; });
        // All Mail selected whole holds every message's labels too: they are
        // compared like its flags.
        if (all != everything.end() && (!filter.empty() || on_server.count(gmail->all))) {
            labels = LabelScope{&*gmail, std::move(filter)};
            on_server.emplace(gmail->all, all->mailbox());
        }
    }
    std::set<std::string> in_catalog;
    for (const auto& mb : catalog.mailboxes(account_id)) {
        const bool for_labels = labels && mb.name == gmail->all;
        if (!for_labels &&
            !sync::mailbox_selected(mb.name, mb.delimiter, account.mailboxes, account.exclude))
            continue;
        in_catalog.insert(mb.name);
        if (!on_server.count(mb.name)) {
            diffs.push_back(whole(mb.name, "gone from the server since the last backup"));
            continue;
        }
        try {
            MailboxDiff diff = compare_mailbox(*client, catalog, mb, on_server.at(mb.name),
                                               for_labels ? &*labels : nullptr);
            if (!diff.clean()) diffs.push_back(std::move(diff));
        } catch (const imap::CommandFailed& e) {
            diffs.push_back(whole(mb.name, std::string("cannot examine: ") + e.what()));
        }
    }
    for (const auto& [name, wire] : on_server)
        if (!in_catalog.count(name))
            diffs.push_back(whole(name, "on the server, not in the backup"));
    if (labels) {
        result.labels_of = gmail->all;
        result.labels = labels->filter.named;
        result.labelled = labels->labelled;
    }
    client->logout();
    return result;
}

}  // namespace imapkeep::cli
