// verify --repair: a row's file that shares its unique name with a label
// link (repair.hpp, repair_shared_names).
#include <ctime>
#include <filesystem>
#include <map>

#include "cli/repair.hpp"

namespace imapkeep::cli {

namespace {

bool exists(store::MessageStore& messages, const std::string& file) {
    std::error_code ec;
    return std::filesystem::exists(messages.absolute(file), ec);
}

RepairOutcome rename_one(store::Catalog& catalog, store::MessageStore& messages,
                         const store::VerifyProblem& problem, const store::MessageRecord& m) {
    // Never locate(): finding a file by its unique name is what could take
    // the link for it.
    if (!exists(messages, m.file)) return {problem.file, false, "", "the file is missing", ""};
    // A kill before the catalog names the new link leaves it unreferenced:
    // the next backup's orphan sweep of a live folder removes it.
    if (!m.expunged_at) catalog.set_files_pending(m.mailbox_id, true);
    const auto fresh = messages.link_under_new_name(m.file);
    messages.sync_committed();
    catalog.begin();
    try {
        // Same flags: recorded as a move, no flag history.
        catalog.update_flags(m.id, m.flags, m.modseq, fresh, std::time(nullptr));
        catalog.commit();
    } catch (...) {
        catalog.rollback();
        throw;
    }
    // No row names the old name now; the label link may be that very file.
    if (m.file != problem.actual_file && exists(messages, m.file)) messages.remove(m.file);
    return {problem.file, true, fresh, "", ""};
}

}  // namespace

std::vector<RepairOutcome> repair_shared_names(store::Id account_id, store::Catalog& catalog,
                                               store::MessageStore& messages,
                                               const std::vector<store::VerifyProblem>& problems) {
    std::map<store::Id, std::string> mailbox_names;
    for (const auto& mb : catalog.mailboxes(account_id, true)) mailbox_names[mb.id] = mb.name;
    std::vector<RepairOutcome> out;
    for (const auto& p : problems) {
        auto m = catalog.message_by_id(p.message_id);
        if (!m || m->file != p.file || !mailbox_names.count(m->mailbox_id)) {
            out.push_back({p.file, false, "", "not in the catalog any more", ""});
            continue;
        }
        out.push_back(rename_one(catalog, messages, p, *m));
        out.back().where =
            "UID " + std::to_string(m->uid) + " of " + mailbox_names.at(m->mailbox_id);
    }
    return out;
}

}  // namespace imapkeep::cli
