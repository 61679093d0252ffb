// imapkeep export from the store (export.hpp).
#include <imapkeep/sync/plan.hpp>
#include <imapkeep/archive/export.hpp>
#include <imapkeep/archive/names.hpp>

#include "archive/restore_labels.hpp"

#include <algorithm>
#include <tuple>

namespace imapkeep::archive {

bool ExportReport::failed() const {
    if (!error.empty()) return true;
    return std::any_of(mailboxes.begin(), mailboxes.end(), [](const auto& m) { return !m.errors.empty(); });
}

namespace {

// A Gmail All Mail copy carries its labels (as of `at`, from the label
// history) and thread id into the archive.
void with_labels(store::Catalog& catalog, const store::MessageRecord& m, std::optional<std::int64_t> at,
                 ArchiveMessage& am) {
    auto gmail = catalog.gmail_message(m.id);
    if (!gmail) return;
    am.gmail = true;
    am.gmail_thread_id = gmail->thrid;
    am.gmail_labels = at ? detail::labels_of(catalog, m.id, at).value_or(std::vector<std::string>{}) : gmail->labels;
}

}  // namespace

ExportReport export_from_store(store::Catalog& catalog, store::MessageStore& messages,
                               const std::string& account, const ExportOptions& options) {
    ExportReport report;
    auto account_id = catalog.find_account(account);
    if (!account_id) {
        report.error = "account " + account + " has no backup in this store";
        return report;
    }
    std::unique_ptr<ArchiveWriter> writer;
    try {
        writer = create_archive_writer(options.format, options.output);
    } catch (const ArchiveError& e) {
        report.error = e.what();
        return report;
    }

    // A point in time may predate a mailbox's deletion: then deleted ones count.
    auto mailboxes = catalog.mailboxes(*account_id, options.at.has_value());
    std::sort(mailboxes.begin(), mailboxes.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    for (const auto& mb : mailboxes) {
        if (!sync::mailbox_selected(mb.name, mb.delimiter, options.mailbox_patterns, {})) continue;
        auto list = options.at ? catalog.messages_at(mb.id, *options.at) : catalog.messages(mb.id);
        // A deleted mailbox that held nothing at that moment did not exist then.
        if (options.at && mb.deleted_at && *mb.deleted_at <= *options.at) continue;
        std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
            return std::tie(a.uidvalidity, a.uid) < std::tie(b.uidvalidity, b.uid);
        });
        ExportMailboxReport mr;
        mr.name = mb.name;
        try {
            writer->add_mailbox(mb.name, mb.delimiter);
        } catch (const ArchiveError& e) {
            mr.errors.push_back(e.what());
            report.mailboxes.push_back(std::move(mr));
            continue;
        }
        for (const auto& m : list) {
            ArchiveMessage am{mb.name, mb.delimiter, m.uidvalidity, m.uid, m.internaldate, m.internaldate_zone, m.flags};
            with_labels(catalog, m, options.at, am);
            try {
                auto bytes = messages.open_read(store::message_ref(m));
                auto added = writer->add(am, *bytes);
                if (!m.sha256.empty() && added.sha256 != m.sha256) {
                    mr.errors.push_back("UID " + std::to_string(m.uid) + ": " + m.file +
                                        " does not match its SHA-256 in the catalog");
                    continue;
                }
                ++mr.messages;
                mr.bytes += added.bytes;
            } catch (const std::exception& e) {
                mr.errors.push_back("UID " + std::to_string(m.uid) + ": " + e.what());
            }
        }
        report.mailboxes.push_back(std::move(mr));
    }
    if (report.failed()) return report;  // the writer's destructor removes the temp tree
    publish(*writer, report);
    return report;
}

}  // namespace imapkeep::archive
