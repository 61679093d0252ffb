// imapkeep backup: lock the store, run the engine per account, record the run,
// report.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <imapkeep/imap/early_connection.hpp>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <imapkeep/util/utf8.hpp>
#include <memory>
#include <optional>

#include "cli/budget_report.hpp"
#include "cli/catalog_place.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/lock.hpp"
#include "cli/log_report.hpp"
#include "cli/progress.hpp"
#include "cli/report.hpp"
#include "cli/retry.hpp"
#include "cli/signals.hpp"
#include "cli/store_session.hpp"

namespace imapkeep::cli {

namespace {

std::uint64_t stop_after_from_env() {
    const char* v = std::getenv(kStopAfterEnv);
    if (!v || !*v) return 0;
    return std::strtoull(v, nullptr, 10);
}

struct AccountRun {
    const Services& services;
    store::Catalog& catalog;
    store::MessageStore& messages;
    const sync::BackupOptions& options;
};

bool stop_asked(const sync::BackupOptions& options) { return options.stop && options.stop->load(); }

// One account, run again while it fails on the network (retry.hpp). Each
// retry is a line on stderr (unless quiet) and in the run log.
sync::AccountReport backup_with_retries(const AccountRun& run, const sync::AccountConfig& account,
                                        const RetryPolicy& policy, Io& io, Verbosity verbosity) {
    LogTee retries(verbosity == Verbosity::Quiet ? nullptr : &io.err, io.log, LogLevel::Warning,
                   account.name);
    auto done = cli::backup_with_retries(
        account.name,
        [&] {
            return run.services.backup_account(account, run.catalog, run.messages, run.options);
        },
        policy, run.options.stop, &retries);
    if (done.outcome.gave_up && done.outcome.attempts > 1) {
        LogTee gave_up(&io.err, io.log, LogLevel::Error, account.name);
        gave_up << "imapkeep: backup " << account.name << ": gave up after "
                << done.outcome.attempts
                << " attempts: " << util::printable_utf8(*done.outcome.gave_up) << "\n";
    }
    return std::move(done.report);
}

void log_reports_if_any(Io& io, const std::vector<sync::AccountReport>& reports, bool dry_run) {
    if (io.log) log_reports(*io.log, reports, dry_run);
}

void log_line(Io& io, LogLevel level, const std::string& message) {
    if (io.log) io.log->log(level, "", "", message);
}

std::string run_start_text(const std::vector<const sync::AccountConfig*>& accounts,
                           const BackupArgs& args) {
    std::string names;
    for (const auto* a : accounts) names += (names.empty() ? "" : ", ") + a->name;
    return std::string(args.dry_run ? "dry run" : "backup") +
           " started: " + count_of(accounts.size(), "account", "accounts") + " (" + names + ")";
}

std::string run_end_text(const RunInfo& run, const std::string& status,
                         const std::vector<sync::AccountReport>& reports) {
    std::uint64_t mailboxes = 0, fresh = 0, bytes = 0, failed = 0;
    for (const auto& a : reports)
        for (const auto& m : a.mailboxes) {
            ++mailboxes;
            fresh += m.new_messages;
            bytes += m.bytes;
            failed += m.failed() ? 1 : 0;
        }
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f s", run.seconds);
    return std::string(run.dry_run ? "dry run" : "backup") + " finished: " + status + ", exit " +
           std::to_string(run.exit_code) + "; " + count_of(mailboxes, "mailbox", "mailboxes") +
           ", " + std::to_string(fresh) + " new (" + human_bytes(bytes) + "), " +
           std::to_string(failed) + " failed, " + seconds;
}

// "interrupted: 1 message saved; the next run resumes"
std::string interrupted_text(std::uint64_t saved) {
    return "interrupted: " + count_of(saved, "message", "messages") +
           " saved; the next run resumes";
}

// A config without [[account]] (only a fleet's may have none: config.cpp
// refuses it otherwise): say why nothing happens, and what backs its
// accounts up, before any store is made.
int nothing_to_back_up(const Config& config, Io& io) {
    io.err << "imapkeep backup: nothing to back up: " << config.file
           << " has no [[account]]; the fleet's accounts (imapkeep accounts list) are backed up "
              "by `imapkeep worker`\n";
    log_line(io, LogLevel::Error, "nothing to back up: the config has no [[account]]");
    return kExitUsage;
}

// The account as configured, its first connection taken from `early` when
// that was opened for it.
sync::AccountConfig with_early(const sync::AccountConfig& account,
                               std::shared_ptr<imap::EarlyConnection>& early) {
    sync::AccountConfig copy = account;
    copy.connect.early = std::move(early);  // only the first account's
    return copy;
}

}  // namespace

std::vector<const sync::AccountConfig*> select_accounts(const Config& config,
                                                        const std::vector<std::string>& names) {
    std::vector<const sync::AccountConfig*> selected;
    if (names.empty()) {
        for (const auto& a : config.accounts) selected.push_back(&a);
        return selected;
    }
    for (const auto& name : names) {
        const sync::AccountConfig* account = config.find_account(name);
        if (!account) {
            std::string known;
            for (const auto& a : config.accounts) known += (known.empty() ? "" : ", ") + a.name;
            throw ConfigError(config.file + ": no account named \"" + name +
                              "\" (configured: " + known + ")");
        }
        selected.push_back(account);
    }
    return selected;
}

int run_backup(const Config& config, const BackupArgs& args, const Services& services, Io& io) {
    auto selected = select_accounts(config, args.accounts);
    if (selected.empty()) return nothing_to_back_up(config, io);

    // The first account's connection opens while the store does: the
    // server's greeting waits in the socket meanwhile (EarlyConnection).
    std::shared_ptr<imap::EarlyConnection> early;
    auto connect_early = [&] {
        early = std::make_shared<imap::EarlyConnection>(selected.front()->connect);
    };
    auto session = args.dry_run ? open_store_snapshot(config, io, connect_early)
                                : open_store(config, io, connect_early);
    if (!session) return kExitTempFail;
    auto& catalog = session->catalog;
    auto& messages = session->messages;

    RunInfo run;
    run.dry_run = args.dry_run;
    run.started_at = std::time(nullptr);
    const auto clock_start = std::chrono::steady_clock::now();
    // A dry run changes nothing, not even the run history. A real one
    // records itself as started before its first change (so a kill leaves
    // it "running"); one that changes nothing writes only its finished record.
    std::optional<store::Id> run_id;
    auto start_run = [&] {
        if (!args.dry_run && !run_id)
            run_id = catalog->begin_run_unsynced("backup", run.started_at);
    };
    log_line(io, LogLevel::Info, run_start_text(selected, args));

    // Ctrl-C and SIGTERM stop the engine at a durable boundary (signals.hpp).
    StopSignals signals;
    sync::Progress progress;
    sync::BackupOptions options;
    options.mailbox_filter = args.mailboxes;
    options.dry_run = args.dry_run;
    options.progress = &progress;
    options.open_catalog = session->open_catalog;
    // A catalog server's connections stay one per worker (BackupOptions).
    options.overlap_mailboxes = !catalog_in_postgres(config);
    options.stop_after_steps = stop_after_from_env();
    options.stop = &signals.flag();
    options.before_first_change = start_run;
    options.defer_settled = true;
    // A throttling server's requests, and the waits they got: stderr (unless
    // quiet) and the log. The engine calls this one line at a time.
    options.pacing_note = [&io,
                           quiet = args.verbosity == Verbosity::Quiet](const std::string& line) {
        LogTee note(quiet ? nullptr : &io.err, io.log, LogLevel::Warning, "");
        note << "imapkeep: " << util::printable_utf8(line) << "\n";
    };

    std::unique_ptr<ProgressBar> bar;
    if (io.err_is_terminal && !args.json && args.verbosity != Verbosity::Quiet)
        bar = std::make_unique<ProgressBar>(progress, io.err, terminal_width(2));
    // Only a bar shows totals: without LIST-STATUS they cost a STATUS per mailbox.
    options.status_for_totals = bar != nullptr;

    std::vector<sync::AccountReport> reports;
    const AccountRun account_run{services, *catalog, *messages, options};
    bool interrupted = false;
    for (const sync::AccountConfig* account : selected) {
        try {
            if (stop_asked(options)) throw sync::StopRequested{};
            reports.push_back(backup_with_retries(account_run, with_early(*account, early),
                                                  config.retry_for(account->name), io,
                                                  args.verbosity));
        } catch (const sync::StopRequested&) {
            if (bar) bar->stop();
            if (signals.signal() != 0) {
                interrupted = true;
                break;
            }
            // The test hook stands for a kill after some change: leave the
            // run unfinished, as a kill would.
            start_run();
            io.err << "imapkeep: stopped after " << options.stop_after_steps << " steps ("
                   << kStopAfterEnv << ")\n";
            return kExitTempFail;
        }
    }
    if (bar) bar->stop();
    log_reports_if_any(io, reports, args.dry_run);

    run.finished_at = std::time(nullptr);
    run.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_start).count();
    run.exit_code = interrupted ? exit_code_for_signal(signals.signal()) : exit_code_for(reports);
    const bool budget = std::any_of(reports.begin(), reports.end(), [](const auto& r) {
        return r.budget_reached || r.messages_left() > 0;
    });
    const std::string status = interrupted ? "interrupted"
                               : budget && run.exit_code == kExitTempFail
                                   ? "budget"
                                   : run_status_for(run.exit_code);
    nlohmann::json report = run_report_json(run, reports, ReportDetail::News);
    report["status"] = status;
    if (!args.dry_run) {
        try {
            // One transaction: the run record and the unchanged mailboxes'
            // last-sync times (all a no-change run writes).
            catalog->begin();
            start_run();
            for (const auto& r : reports) sync::save_settled(*catalog, r);
            catalog->finish_run(*run_id, run.finished_at, status, json_text(report));
            catalog->commit();
        } catch (const std::exception& e) {
            catalog->rollback();
            io.err << "imapkeep: cannot record the run in the catalog: " << e.what() << "\n";
            log_line(io, LogLevel::Error,
                     std::string("cannot record the run in the catalog: ") + e.what());
            if (run.exit_code == kExitOk) run.exit_code = kExitTempFail;
        }
    }

    if (args.json) {
        nlohmann::json full = run_report_json(run, reports);
        full["status"] = status;
        io.out << json_text(full, 2) << "\n";
    }
    print_summary(io.out, io.err, reports, args.json ? Verbosity::Quiet : args.verbosity,
                  args.dry_run);
    for (const auto& r : reports)
        if (auto line = budget_line(r)) log_line(io, LogLevel::Warning, r.account + ": " + *line);
    if (interrupted) {
        const std::string text = interrupted_text(progress.messages_saved.load());
        io.err << text << "\n";
        log_line(io, LogLevel::Warning, text);
    }
    log_line(io, run.exit_code == kExitOk ? LogLevel::Info : LogLevel::Warning,
             run_end_text(run, status, reports));
    return run.exit_code;
}

}  // namespace imapkeep::cli
