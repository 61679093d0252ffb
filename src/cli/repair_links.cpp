// imapkeep verify --repair of Gmail label links ("link missing", "link not
// the copy"): the message's links are made again from its copy, as a backup
// makes them (repair.hpp, repair_label_links).
#include <imapkeep/imap/connect.hpp>
#include <imapkeep/sync/gmail_layout.hpp>
#include <algorithm>
#include <map>

#include "cli/repair.hpp"
#include "sync/gmail_labels.hpp"

namespace imapkeep::cli {

namespace {

// Gmail's layout as the server lists it now: the label folders' names (a
// system label's mailbox is only known by its attribute).
std::optional<sync::GmailLayout> current_layout(const sync::AccountConfig& account) {
    auto client = imap::connect_and_login(account.connect);
    auto layout = sync::gmail_layout(client->has_capability("X-GM-EXT-1"), client->list("", "*"));
    client->logout();
    return layout;
}

// One message's links made again in one catalog transaction: its rows
// cleared, then LabelView::link (files first, made durable, rows after).
void relink(sync::LabelView& view, store::Id id, store::Catalog& catalog,
            store::MessageStore& messages) {
    catalog.begin();
    try {
        catalog.set_label_links(id, {});
        view.link({id});
        messages.sync_committed();
        catalog.commit();
    } catch (...) {
        catalog.rollback();
        throw;
    }
}

}  // namespace

std::vector<RepairOutcome> repair_label_links(const sync::AccountConfig& account,
                                              store::Catalog& catalog, store::MessageStore& messages,
                                              const std::vector<store::VerifyProblem>& problems) {
    std::vector<RepairOutcome> out;
    const auto layout = current_layout(account);
    if (!layout) {
        for (const auto& p : problems)
            out.push_back({p.file, false, "", "the server shows no Gmail All Mail (X-GM-EXT-1, \\All)", ""});
        return out;
    }
    std::map<store::Id, std::vector<store::VerifyProblem>> by_message;
    for (const auto& p : problems) by_message[p.message_id].push_back(p);
    sync::LabelView view(*layout, catalog, messages, account.name);
    for (const auto& [id, found] : by_message) {
        auto m = catalog.message_by_id(id);
        if (!m || m->expunged_at) {
            for (const auto& p : found) out.push_back({p.file, false, "", "not in All Mail any more", ""});
            continue;
        }
        relink(view, id, catalog, messages);
        // A file that only looks alike stays where it is (a Maildir link is
        // never made over a file): its label's link is still not the copy.
        std::vector<std::string> in_the_way;
        for (const auto& link : catalog.label_links(id))
            if (messages.link_state(link.file, m->file) != store::LinkState::Copy)
                in_the_way.push_back(link.file);
        for (const auto& p : found) {
            RepairOutcome r{p.file, false, "", "", "UID " + std::to_string(m->uid) + ", label links"};
            if (std::find(in_the_way.begin(), in_the_way.end(), p.file) != in_the_way.end()) {
                r.reason = "a file that is not the copy is in the way (left as it is)";
            } else {
                r.repaired = true;
                r.new_file = p.kind == "link missing" ? p.file : m->file;
            }
            out.push_back(r);
        }
    }
    return out;
}

}  // namespace imapkeep::cli
