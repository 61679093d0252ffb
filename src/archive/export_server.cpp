// imapkeep export --url: straight from a server into an archive (export.hpp).
#include <imapkeep/sync/plan.hpp>
#include <imapkeep/archive/export.hpp>
#include <imapkeep/archive/names.hpp>

#include "archive/writers.hpp"
#include <imapkeep/store/flags.hpp>
#include <imapkeep/store/message_reader.hpp>
#include <imapkeep/sync/gmail_layout.hpp>

#include <imapkeep/util/imap_date.hpp>
#include <imapkeep/wire/framer.hpp>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>

namespace imapkeep::archive {

namespace {

// Where one body literal goes: a spool file, so memory stays flat.
class SpoolSink : public wire::LiteralSink {
public:
    explicit SpoolSink(std::string path) : m_path(std::move(path)), m_file(m_path, false) {}
    void write(std::string_view chunk) override { m_file.write(chunk); }
    void finish() override { m_file.close(); }
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
    detail::OutFile m_file;
};

// One mailbox to export. Gmail's All Mail carries each message's labels
// (ArchiveMessage::gmail_labels); with `keep` set, only the messages whose
// labels it keeps (a label view the patterns chose) are exported.
struct ExportedMailbox {
    imap::ListEntry entry;
    bool gmail_labels = false;
    std::function<bool(const std::vector<std::string>& labels)> keep;
};

// The UIDs of the selected mailbox whose X-GM-LABELS `keep` keeps (no body asked).
UidSet labelled(imap::Client& client, const ExportedMailbox& box) {
    UidSet all, chosen;
    all.add_range(Uid(1), Uid(0xFFFFFFFFu));
    client.uid_fetch(all, imap::FetchItems().uid().gmail_labels(), [&](imap::FetchData& fd) {
        if (fd.uid && fd.gm_labels && box.keep(*fd.gm_labels)) chosen.add(*fd.uid);
    });
    return chosen;
}

// As the store keeps them (sync::LabelView): sorted, each once.
void with_gmail_labels(const imap::FetchData& fd, ArchiveMessage& m) {
    m.gmail = true;
    m.gmail_thread_id = fd.gm_thrid.value_or(0);
    auto labels = fd.gm_labels.value_or(std::vector<std::string>{});
    std::sort(labels.begin(), labels.end());
    labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
    m.gmail_labels = std::move(labels);
}

void export_mailbox(imap::Client& client, ArchiveWriter& writer, const ExportedMailbox& box,
                    const std::string& spool, ExportMailboxReport& mr) {
    const auto& entry = box.entry;
    auto sel = client.select(entry.mailbox(), /*read_only=*/true);  // invariant 6: the bytes as listed
    writer.add_mailbox(entry.name, entry.delimiter);
    UidSet wanted;
    if (sel.exists != 0 && box.keep) wanted = labelled(client, box);
    else if (sel.exists != 0) wanted.add_range(Uid(1), Uid(0xFFFFFFFFu));
    if (wanted.empty()) {
        client.unselect();
        return;
    }
    // The framer may start the next response's literal before this one is
    // handed over, so sinks are found by address, not assumed to be the last.
    std::map<wire::LiteralSink*, std::unique_ptr<SpoolSink>> sinks;
    std::uint64_t counter = 0;
    client.set_body_sink_factory([&](std::string_view, std::uint64_t) -> wire::LiteralSink* {
        auto sink = std::make_unique<SpoolSink>(spool + "/" + std::to_string(++counter));
        auto* key = sink.get();
        sinks.emplace(key, std::move(sink));
        return key;
    });
    imap::FetchItems items;
    items.uid().flags().internaldate();
    if (box.gmail_labels) items.gmail_thrid().gmail_labels();
    items.body_peek();
    try {
        client.uid_fetch(wanted, items, [&](imap::FetchData& fd) {
            // Runs inside the Client's read loop: never let an archive error escape.
            std::string uid = fd.uid ? std::to_string(fd.uid->value) : "?";
            auto it = sinks.find(fd.body_sink);
            SpoolSink* sink = it == sinks.end() ? nullptr : it->second.get();
            try {
                if (!sink && fd.has_body && !fd.body_sink) {
                    // A body sent as a quoted string (small messages, some servers).
                    auto spooled = std::make_unique<SpoolSink>(spool + "/" + std::to_string(++counter));
                    spooled->write(fd.body);
                    spooled->finish();
                    sink = spooled.get();
                    it = sinks.emplace(sink, std::move(spooled)).first;
                }
                auto date = fd.internaldate ? util::parse_imap_datetime(*fd.internaldate) : std::nullopt;
                if (!fd.has_body || !sink || !date || !fd.flags)
                    throw ArchiveError("the server sent no complete message");
                ArchiveMessage m{entry.name, entry.delimiter, sel.uidvalidity.value, fd.uid->value,
                                 date->epoch, date->zone_offset_seconds, store::normalize_flags(*fd.flags)};
                if (box.gmail_labels) with_gmail_labels(fd, m);
                auto spooled = store::open_file_source(sink->path(), store::LineEndings::Wire, sink->path());
                auto added = writer.add(m, *spooled);
                ++mr.messages;
                mr.bytes += added.bytes;
            } catch (const std::exception& e) {
                mr.errors.push_back("UID " + uid + ": " + e.what());
            }
            if (sink) {
                std::remove(sink->path().c_str());
                sinks.erase(it);
            }
        });
    } catch (...) {
        client.set_body_sink_factory(nullptr);
        throw;
    }
    client.set_body_sink_factory(nullptr);
    client.unselect();
}

// The listed mailboxes (the URL's mailbox, or all) the patterns select.
std::vector<ExportedMailbox> plain_mailboxes(std::vector<imap::ListEntry> entries, const ExportOptions& options) {
    std::vector<ExportedMailbox> out;
    for (auto& e : entries)
        if (e.selectable() && sync::mailbox_selected(e.name, e.delimiter, options.mailbox_patterns, {}))
            out.push_back({std::move(e), false, {}});
    return out;
}

// Gmail (X-GM-EXT-1 with a \All mailbox): as the backup stores it, All Mail
// is the one copy of each message, with its labels; the label views (INBOX,
// Sent, user labels) show the same messages again and are not exported
// again. A label view selected while All Mail is not means its label's
// messages, exported from All Mail. \Trash and \Junk hold messages All Mail
// does not: exported as ordinary mailboxes when selected.
std::vector<ExportedMailbox> gmail_mailboxes(const sync::GmailLayout& layout, std::vector<imap::ListEntry> entries,
                                             const std::string& mailbox, const ExportOptions& options) {
    auto chosen = [&, mailbox](const std::string& name, const std::string& delimiter) {
        return (mailbox.empty() || sync::mailbox_selected(name, delimiter, {mailbox}, {})) &&
               sync::mailbox_selected(name, delimiter, options.mailbox_patterns, {});
    };
    std::vector<ExportedMailbox> out;
    std::optional<imap::ListEntry> all;
    bool all_chosen = false, label_chosen = false;
    for (auto& e : entries) {
        if (e.name == layout.all) all = e;
        if (!e.selectable() || !chosen(e.name, e.delimiter)) continue;
        if (e.name == layout.all) all_chosen = true;
        else if (!layout.trash_and_junk.count(e.name)) label_chosen = true;
        if (e.name == layout.all) out.push_back({std::move(e), true, {}});
        else if (layout.trash_and_junk.count(e.name)) out.push_back({std::move(e), false, {}});
    }
    if (!all_chosen && label_chosen && all) {
        const std::string delimiter = layout.delimiter.empty() ? "/" : layout.delimiter;
        out.push_back({*all, true, [layout, delimiter, chosen](const std::vector<std::string>& labels) {
                           return std::any_of(labels.begin(), labels.end(), [&](const std::string& label) {
                               return chosen(sync::label_mailbox(layout, label), delimiter);
                           });
                       }});
    }
    return out;
}

std::vector<ExportedMailbox> mailboxes_to_export(imap::Client& client, const std::string& mailbox,
                                                 const ExportOptions& options) {
    // Gmail: All Mail must be found (by its \All attribute) whatever the URL names.
    const bool gmail = client.has_capability("X-GM-EXT-1");
    auto entries = client.list("", mailbox.empty() || gmail ? "*" : mailbox);
    sync::distinguish_twins(entries, [&](const std::string& name) { return client.encode_mailbox(name); });
    std::vector<ExportedMailbox> out;
    if (auto layout = sync::gmail_layout(gmail, entries))
        out = gmail_mailboxes(*layout, std::move(entries), mailbox, options);
    else
        out = plain_mailboxes(std::move(entries), options);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.entry.name < b.entry.name; });
    return out;
}

}  // namespace

ExportReport export_from_server(const imap::ConnectOptions& connect, const std::string& mailbox,
                                const ExportOptions& options) {
    ExportReport report;
    if (options.at) {
        report.error = "--at needs a backup: a server only has its present state";
        return report;
    }
    std::unique_ptr<ArchiveWriter> writer;
    try {
        writer = create_archive_writer(options.format, options.output);
    } catch (const ArchiveError& e) {
        report.error = e.what();
        return report;
    }
    std::unique_ptr<imap::Client> client;
    try {
        client = imap::connect_and_login(connect);
    } catch (const imap::ConnectError& e) {
        report.error = e.what();
        report.connect_failed = true;
        report.error_kind = e.kind();
        report.transient = e.transient();
        return report;
    }
    try {
        auto boxes = mailboxes_to_export(*client, mailbox, options);
        if (!mailbox.empty() && boxes.empty()) report.error = "no mailbox " + mailbox + " on the server";
        auto spool = writer->scratch_dir();
        for (const auto& box : boxes) {
            ExportMailboxReport mr;
            mr.name = box.entry.name;
            try {
                export_mailbox(*client, *writer, box, spool, mr);
            } catch (const imap::Abort&) {
                throw;
            } catch (const std::exception& e) {
                mr.errors.push_back(e.what());
            }
            report.mailboxes.push_back(std::move(mr));
        }
    } catch (const std::exception& e) {
        report.error = std::string("connection lost: ") + e.what();
        report.transient = true;
    }
    client->logout();
    if (report.failed()) return report;
    publish(*writer, report);
    return report;
}

}  // namespace imapkeep::archive
