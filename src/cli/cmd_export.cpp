// imapkeep export: from the store (locked while read) or straight from a
// server (--url) into an mbox, Maildir++ or .eml archive.
#include "cli/archive_commands.hpp"
#include "cli/catalog_place.hpp"
#include "cli/store_session.hpp"
#include "cli/exit_codes.hpp"
#include "cli/lock.hpp"
#include "cli/log.hpp"
#include "cli/secrets.hpp"
#include "cli/trace.hpp"

#include <imapkeep/archive/export.hpp>
#include <imapkeep/archive/time_spec.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <unistd.h>

namespace imapkeep::cli {

namespace {

int exit_code_for(const archive::ExportReport& r) {
    if (r.connect_failed) return r.transient ? kExitTempFail : kExitConnect;
    if (!r.error.empty() && r.transient) return kExitTempFail;
    return r.failed() || !r.published ? kExitPartial : kExitOk;
}

nlohmann::json report_json(const RunInfo& run, const archive::ExportReport& r, const ExportArgs& args) {
    nlohmann::json mailboxes = nlohmann::json::array();
    std::uint64_t messages = 0, bytes = 0, errors = 0;
    for (const auto& m : r.mailboxes) {
        mailboxes.push_back({{"name", m.name}, {"messages", m.messages}, {"bytes", m.bytes}, {"errors", m.errors}});
        messages += m.messages;
        bytes += m.bytes;
        errors += m.errors.size();
    }
    return {{"command", "export"},
            {"started_at", iso8601_utc(run.started_at)},
            {"finished_at", iso8601_utc(run.finished_at)},
            {"seconds", run.seconds},
            {"exit_code", run.exit_code},
            {"status", run_status_for(run.exit_code)},
            {"source", args.url.empty() ? args.account : "url"},
            {"format", args.format},
            {"output", r.published ? nlohmann::json(r.output) : nlohmann::json(nullptr)},
            {"published", r.published},
            {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)},
            {"totals", {{"mailboxes", r.mailboxes.size()}, {"messages", messages}, {"bytes", bytes}, {"errors", errors}}},
            {"mailboxes", mailboxes}};
}

// "export: 2 mailboxes, 10 messages (1.2 MB) written to OUT (mbox)"
std::string export_summary(const archive::ExportReport& report, const ExportArgs& args) {
    std::uint64_t messages = 0, bytes = 0;
    for (const auto& m : report.mailboxes) {
        messages += m.messages;
        bytes += m.bytes;
    }
    return "export: " + count_of(report.mailboxes.size(), "mailbox", "mailboxes") + ", " +
           count_of(messages, "message", "messages") + " (" + human_bytes(bytes) + ") written to " +
           report.output + " (" + args.format + ")";
}

// The run log gets what stderr and stdout get: each error, and the result.
void log_export(Io& io, const archive::ExportReport& report, const ExportArgs& args) {
    if (!io.log) return;
    const std::string& account = args.account;
    for (const auto& m : report.mailboxes)
        for (const auto& e : m.errors) io.log->log(LogLevel::Error, account, m.name, e);
    if (!report.error.empty()) io.log->log(LogLevel::Error, account, "", "export: " + report.error);
    if (!report.published) {
        io.log->log(LogLevel::Error, account, "",
                    "export: nothing written to " + args.output + " (the archive would be incomplete)");
        return;
    }
    io.log->log(report.error.empty() ? LogLevel::Info : LogLevel::Warning, account, "",
                export_summary(report, args));
}

}  // namespace

int run_export(const Config& config, const ExportArgs& args, Io& io) {
    if (args.account.empty() == args.url.empty()) {
        io.err << "imapkeep export: give either --account NAME (from the store) or --url URL (from a server)\n";
        return kExitUsage;
    }
    archive::ExportOptions options;
    auto format = archive::parse_archive_format(args.format);
    if (!format) {
        io.err << "imapkeep export: --format must be mbox, maildir or eml\n";
        return kExitUsage;
    }
    options.format = *format;
    options.output = args.output;
    options.mailbox_patterns = args.mailboxes;
    if (!args.at.empty()) {
        options.at = archive::parse_point_in_time(args.at);
        if (!options.at) {
            io.err << "imapkeep export: --at " << args.at
                   << ": expected YYYY-MM-DD or an ISO 8601 time such as 2024-05-01T10:00:00Z\n";
            return kExitUsage;
        }
        if (!args.url.empty()) {
            io.err << "imapkeep export: --at needs a backup (--account); a server only has its present state\n";
            return kExitUsage;
        }
    }

    try {
        archive::check_output_path(args.output);
    } catch (const archive::ArchiveError& e) {
        io.err << "imapkeep export: --output: " << e.what() << "\n";
        return kExitUsage;
    }

    RunInfo run;
    run.command = "export";
    run.started_at = std::time(nullptr);
    const auto clock_start = std::chrono::steady_clock::now();
    archive::ExportReport report;

    if (!args.url.empty()) {
        archive::ExportUrl url;
        try {
            url = archive::parse_export_url(args.url, args.allow_plaintext);
        } catch (const std::invalid_argument& e) {
            io.err << "imapkeep export: --url: " << e.what() << "\n";
            return kExitUsage;
        }
        imap::ConnectOptions connect;
        connect.host = url.host;
        connect.port = url.port;
        connect.tls = url.tls;
        connect.user = url.user;
        connect.allow_plaintext_auth = args.allow_plaintext;
        if (args.trace) connect.client.trace = connection_trace(io.err, "url");
        if (!args.ca_file.empty()) {
            if (::access(args.ca_file.c_str(), R_OK) != 0) {
                io.err << "imapkeep export: --ca-file " << args.ca_file << ": " << std::strerror(errno) << "\n";
                return kExitUsage;
            }
            connect.tls_options.ca_file = args.ca_file;
        }
        PasswordSource source;
        source.command = args.password_command;
        source.file = args.password_file;
        connect.password = make_password_function(source, "--url");
        report = archive::export_from_server(connect, url.mailbox, options);
    } else {
        // A path with no catalog (a typo) is only read: opening it would make one.
        if (!catalog_exists(config)) {
            io.err << "imapkeep export: account " << args.account << " has no backup in " << config.store_path << "\n";
            return kExitUsage;
        }
        auto session = open_store(config, io);
        if (!session) return kExitTempFail;
        auto& catalog = session->catalog;
        auto& messages = session->messages;
        if (!catalog->find_account(args.account)) {
            io.err << "imapkeep export: account " << args.account << " has no backup in " << config.store_path << "\n";
            return kExitUsage;
        }
        report = archive::export_from_store(*catalog, *messages, args.account, options);
    }

    run.finished_at = std::time(nullptr);
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_start).count();
    run.exit_code = exit_code_for(report);
    log_export(io, report, args);
    if (args.json) io.out << json_text(report_json(run, report, args), 2) << "\n";
    for (const auto& m : report.mailboxes)
        for (const auto& e : m.errors) io.err << "imapkeep: export " << m.name << ": " << e << "\n";
    if (!report.error.empty()) io.err << "imapkeep: export: " << report.error << "\n";
    if (!report.published) {
        io.err << "imapkeep: export: nothing written to " << args.output << " (the archive would be incomplete)\n";
        return run.exit_code;
    }
    if (!args.json && args.verbosity != Verbosity::Quiet) {
        if (args.verbosity == Verbosity::Verbose)
            for (const auto& m : report.mailboxes)
                io.out << "  " << m.name << ": " << count_of(m.messages, "message", "messages") << " ("
                       << human_bytes(m.bytes) << ")\n";
        io.out << export_summary(report, args) << "\n";
    }
    return run.exit_code;
}

}  // namespace imapkeep::cli
