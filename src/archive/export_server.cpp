// imapkeep export --url: straight from a server into an archive (export.hpp).
#include <imapkeep/sync/plan.hpp>
#include <imapkeep/archive/export.hpp>
#include <imapkeep/archive/names.hpp>

#include "archive/writers.hpp"
#include <imapkeep/store/flags.hpp>

#include <imapkeep/util/imap_date.hpp>
#include <imapkeep/wire/framer.hpp>

#include <algorithm>
#include <cstdio>
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

void export_mailbox(imap::Client& client, ArchiveWriter& writer, const imap::ListEntry& entry,
                    const std::string& spool, ExportMailboxReport& mr) {
    auto sel = client.select(entry.mailbox(), /*read_only=*/true);  // invariant 6: the bytes as listed
    writer.add_mailbox(entry.name, entry.delimiter);
    if (sel.exists == 0) {
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
    UidSet all;
    all.add_range(Uid(1), Uid(0xFFFFFFFFu));
    try {
        client.uid_fetch(all, "(UID FLAGS INTERNALDATE BODY.PEEK[])", [&](imap::FetchData& fd) {
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
                auto added = writer.add(m, sink->path());
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
        auto entries = client->list("", mailbox.empty() ? "*" : mailbox);
        sync::distinguish_twins(entries, [&](const std::string& name) { return client->encode_mailbox(name); });
        std::erase_if(entries, [&](const imap::ListEntry& e) {
            return !e.selectable() || !sync::mailbox_selected(e.name, e.delimiter, options.mailbox_patterns, {});
        });
        if (!mailbox.empty() && entries.empty()) report.error = "no mailbox " + mailbox + " on the server";
        std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
        auto spool = writer->scratch_dir();
        for (const auto& entry : entries) {
            ExportMailboxReport mr;
            mr.name = entry.name;
            try {
                export_mailbox(*client, *writer, entry, spool, mr);
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
