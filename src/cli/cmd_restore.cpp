// imapkeep restore: lock the store, APPEND to the target, journal, report.
#include "cli/archive_commands.hpp"
#include "cli/catalog_place.hpp"
#include "cli/budget_report.hpp"
#include "cli/log_restore.hpp"
#include "cli/store_session.hpp"
#include "cli/exit_codes.hpp"
#include "cli/lock.hpp"
#include "cli/retry.hpp"
#include "cli/signals.hpp"

#include <cmath>
#include <imapkeep/archive/restore.hpp>
#include <imapkeep/archive/time_spec.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <imapkeep/util/utf8.hpp>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <optional>

namespace imapkeep::cli {

namespace {

std::uint64_t keywords_dropped(const archive::RestoreMailboxReport& m) {
    std::uint64_t n = 0;
    for (const auto& [keyword, count] : m.dropped_keywords) n += count;
    return n;
}

std::string plural(std::uint64_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}


// What the target could not keep: not failures (the messages are there), but
// worth a line each, even with -q.
void print_losses(Io& io, const archive::RestoreMailboxReport& m) {
    if (!m.skipped.empty())
        io.err << "imapkeep: restore " << util::printable_utf8(m.source) << " -> " << util::printable_utf8(m.target)
               << ": skipped: " << util::printable_utf8(m.skipped) << "\n";
    if (!m.dropped_keywords.empty()) {
        io.err << "imapkeep: restore " << util::printable_utf8(m.source) << " -> " << util::printable_utf8(m.target)
               << ": restored without keywords the target cannot take: ";
        const char* sep = "";
        for (const auto& [keyword, count] : m.dropped_keywords) {
            io.err << sep << util::printable_utf8(keyword) << " (" << plural(count, "message") << ")";
            sep = ", ";
        }
        io.err << "\n";
    }
    if (m.dates_not_kept)
        io.err << "imapkeep: restore " << util::printable_utf8(m.source) << " -> " << util::printable_utf8(m.target) << ": " << plural(m.dates_not_kept, "message")
               << " without their original date (the target set its own INTERNALDATE)\n";
}

// The restore, run again while it fails on the network (retry.hpp). A retry
// resumes the way a run after a kill does: the server may still be executing
// APPENDs the cut connection had sent, so each existing target mailbox settles
// first, and what landed is found by SHA-256 instead of being appended twice.
archive::RestoreReport restore_with_retries(const sync::AccountConfig& target, store::Catalog& catalog,
                                            store::MessageStore& messages, archive::RestoreOptions options,
                                            const RetryPolicy& policy, const std::string& what, Io& io,
                                            Verbosity verbosity) {
    archive::RestoreReport report;
    auto attempt = [&](int n) {
        if (n > 1) options.resume_after_kill = true;
        auto r = archive::restore_account(target, catalog, messages, options);
        if (n > 1) merge_earlier_attempt(r, report);
        report = std::move(r);
        return retry_cause(report);
    };
    run_with_retries_logged(policy, what, attempt, io.err, verbosity == Verbosity::Quiet);
    return report;
}

}  // namespace

nlohmann::json restore_report_json(const RunInfo& run, const archive::RestoreReport& r, std::optional<std::int64_t> at) {
    nlohmann::json mailboxes = nlohmann::json::array();
    std::uint64_t created = 0, to_append = 0, appended = 0, already = 0, bytes = 0, failed = 0;
    std::uint64_t dropped = 0, flags_fixed = 0, dates_not_kept = 0;
    for (const auto& m : r.mailboxes) {
        nlohmann::json failures = nlohmann::json::array();
        for (const auto& f : m.failures)
            failures.push_back({{"uidvalidity", f.uidvalidity}, {"uid", f.uid}, {"reason", f.reason}});
        mailboxes.push_back({{"source", m.source},
                             {"target", m.target},
                             {"create", m.create},
                             {"to_append", m.to_append},
                             {"appended", m.appended},
                             {"already", m.already},
                             {"bytes", m.bytes},
                             {"dropped_keywords", nlohmann::json(m.dropped_keywords)},
                             {"flags_fixed", m.flags_fixed},
                             {"dates_not_kept", m.dates_not_kept},
                             {"failures", failures},
                             {"error", m.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.error)},
                             {"skipped", m.skipped.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.skipped)},
                             {"left", m.left},
                             {"left_bytes", m.left_bytes}});
        created += m.create;
        to_append += m.to_append;
        appended += m.appended;
        already += m.already;
        bytes += m.bytes;
        failed += m.failures.size();
        dropped += keywords_dropped(m);
        flags_fixed += m.flags_fixed;
        dates_not_kept += m.dates_not_kept;
    }
    return {{"command", "restore"},
            {"started_at", iso8601_utc(run.started_at)},
            {"finished_at", iso8601_utc(run.finished_at)},
            {"seconds", run.seconds},
            {"dry_run", run.dry_run},
            {"exit_code", run.exit_code},
            {"status", run_status_for(run.exit_code)},
            {"source", r.source_account},
            {"target", r.target_account},
            {"at", at ? nlohmann::json(iso8601_utc(*at)) : nlohmann::json(nullptr)},
            {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)},
            {"error_kind", r.connect_failed ? nlohmann::json(connect_error_kind_name(r.error_kind))
                                            : nlohmann::json(nullptr)},
            {"transient", r.transient},
            {"notes", r.notes},
            {"budget", budget_json(r)},
            {"totals",
             {{"mailboxes", r.mailboxes.size()},
              {"created", created},
              {"to_append", to_append},
              {"appended", appended},
              {"already", already},
              {"bytes", bytes},
              {"keywords_dropped", dropped},
              {"flags_fixed", flags_fixed},
              {"dates_not_kept", dates_not_kept},
              {"failed", failed}}},
            {"mailboxes", mailboxes}};
}

void print_restore_report(Io& io, const archive::RestoreReport& r, const RestoreArgs& args) {
    // As a backup's notes: not under -q (the JSON report and the log keep them).
    if (args.verbosity != Verbosity::Quiet)
        for (const auto& note : r.notes)
            io.err << "imapkeep: " << util::printable_utf8(note) << "\n";
    for (const auto& m : r.mailboxes) {
        print_losses(io, m);
        if (!m.error.empty()) io.err << "imapkeep: restore " << util::printable_utf8(m.source) << " -> " << util::printable_utf8(m.target) << ": " << util::printable_utf8(m.error) << "\n";
        for (const auto& f : m.failures)
            io.err << "imapkeep: restore " << util::printable_utf8(m.source) << " UID " << f.uid << " (UIDVALIDITY " << f.uidvalidity
                   << ") -> " << util::printable_utf8(m.target) << ": " << util::printable_utf8(f.reason) << "\n";
    }
    if (!r.error.empty()) io.err << "imapkeep: restore " << r.source_account << " -> " << r.target_account << ": " << util::printable_utf8(r.error) << "\n";
    // Why the run is not done (exit 75), even with -q, as a backup's.
    if (auto line = budget_line(r))
        io.err << "imapkeep: restore " << r.source_account << " -> " << r.target_account << ": "
               << util::printable_utf8(*line) << "\n";
    if (args.verbosity == Verbosity::Quiet) return;
    std::uint64_t created = 0, count = 0, bytes = 0, already = 0, failed = 0, flags_fixed = 0;
    for (const auto& m : r.mailboxes) {
        created += m.create;
        flags_fixed += m.flags_fixed;
        count += args.dry_run ? m.to_append : m.appended;
        bytes += m.bytes;
        already += m.already;
        failed += m.failures.size() + (m.error.empty() ? 0 : 1);
        if (args.verbosity == Verbosity::Verbose || args.dry_run) {
            io.out << "  " << util::printable_utf8(m.source) << " -> " << util::printable_utf8(m.target) << (m.create ? (args.dry_run ? " (would create)" : " (created)") : "")
                   << ": " << (args.dry_run ? m.to_append : m.appended) << " " << (args.dry_run ? "to append" : "appended")
                   << " (" << human_bytes(m.bytes) << "), " << m.already << " already there\n";
        }
    }
    io.out << "restore " << r.source_account << " -> " << r.target_account << ": "
           << (args.dry_run ? "would create " : "created ") << created << " mailbox" << (created == 1 ? "" : "es") << ", "
           << (args.dry_run ? "would append " : "appended ") << count << " message" << (count == 1 ? "" : "s") << " ("
           << human_bytes(bytes) << "), " << already << " already there";
    if (flags_fixed) io.out << ", " << plural(flags_fixed, "message") << " had flags set again";
    if (failed) io.out << ", " << failed << " FAILED";
    io.out << "\n";
}


int run_restore(const Config& config, const RestoreArgs& args, Io& io) {
    std::optional<std::int64_t> at;
    if (!args.at.empty()) {
        at = archive::parse_point_in_time(args.at);
        if (!at) {
            io.err << "imapkeep restore: --at " << args.at
                   << ": expected YYYY-MM-DD or an ISO 8601 time such as 2024-05-01T10:00:00Z\n";
            return kExitUsage;
        }
    }
    const sync::AccountConfig* target = select_accounts(config, {args.to}).front();
    // The source needs no [[account]] entry any more (it may be gone), only a backup.

    // A path with no catalog (a typo) is only read: opening it would make one.
    if (!catalog_exists(config)) {
        io.err << "imapkeep restore: account " << args.account << " has no backup in " << config.store_path << "\n";
        return kExitUsage;
    }
    auto session = args.dry_run ? open_store_snapshot(config, io) : open_store(config, io);
    if (!session) return kExitTempFail;
    auto& catalog = session->catalog;
    auto& messages = session->messages;

    if (!catalog->find_account(args.account)) {
        io.err << "imapkeep restore: account " << args.account << " has no backup in " << config.store_path << "\n";
        return kExitUsage;
    }

    archive::RestoreOptions options;
    options.source_account = args.account;
    options.mailbox_patterns = args.mailboxes;
    options.prefix = args.prefix;
    options.at = at;
    options.dry_run = args.dry_run;
    if (const char* v = std::getenv(kStopAfterEnv); v && *v) options.stop_after_appends = std::strtoull(v, nullptr, 10);
    // Ctrl-C or SIGTERM: the restore stops between APPENDs, or in a wait a
    // throttling target asked for, with what it appended journaled.
    StopSignals signals;
    options.stop = &signals.flag();

    RunInfo run;
    run.command = "restore";
    run.dry_run = args.dry_run;
    run.started_at = std::time(nullptr);
    const auto clock_start = std::chrono::steady_clock::now();
    std::optional<store::Id> run_id;
    if (auto last = catalog->last_run("restore"); last && !last->finished_at) options.resume_after_kill = true;
    if (!args.dry_run) run_id = catalog->begin_run("restore", run.started_at);

    options.settle_quiet = std::chrono::milliseconds(
        std::llround(config.retry_for(target->name).settle_seconds * 1000));

    archive::RestoreReport report;
    try {
        report = restore_with_retries(*target, *catalog, *messages, options, config.retry_for(target->name),
                                      "restore " + args.account + " -> " + args.to, io, args.verbosity);
    } catch (const archive::RestoreStopped&) {
        io.err << "imapkeep: restore stopped after " << options.stop_after_appends << " APPENDs (" << kStopAfterEnv << ")\n";
        return kExitTempFail;
    }
    run.finished_at = std::time(nullptr);
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_start).count();
    run.exit_code = report.stopped ? exit_code_for_signal(signals.signal()) : exit_code_for(report);
    auto json = restore_report_json(run, report, at);
    if (run_id) {
        try {
            catalog->finish_run(*run_id, run.finished_at, run_status_for(run.exit_code), json_text(json));
        } catch (const std::exception& e) {
            io.err << "imapkeep: cannot record the run in the catalog: " << e.what() << "\n";
            if (run.exit_code == kExitOk) run.exit_code = kExitTempFail;
        }
    }
    if (args.json) io.out << json_text(json, 2) << "\n";
    RestoreArgs shown = args;
    if (args.json) shown.verbosity = Verbosity::Quiet;
    print_restore_report(io, report, shown);
    if (io.log) log_restore_report(*io.log, report, args.dry_run);
    return run.exit_code;
}

}  // namespace imapkeep::cli
