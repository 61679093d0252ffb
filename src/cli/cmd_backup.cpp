// imapkeep backup: lock the store, run the engine per account, record the run,
// report.
#include "cli/commands.hpp"
#include "cli/store_session.hpp"
#include "cli/exit_codes.hpp"
#include "cli/lock.hpp"
#include "cli/progress.hpp"
#include "cli/retry.hpp"

#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <imapkeep/util/utf8.hpp>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>

namespace imapkeep::cli {

namespace {

std::uint64_t stop_after_from_env() {
    const char* v = std::getenv(kStopAfterEnv);
    if (!v || !*v) return 0;
    return std::strtoull(v, nullptr, 10);
}

// What the engine could not contain becomes an account-level outcome, so one
// account's trouble never hides the others' results.
sync::AccountReport failed_account(const std::string& name, const std::exception& e) {
    sync::AccountReport report;
    report.account = name;
    report.error = e.what();
    if (auto* ce = dynamic_cast<const imap::ConnectError*>(&e)) {
        report.connect_failed = true;
        report.error_kind = ce->kind();
        report.transient = ce->transient();
    }
    return report;
}

struct AccountRun {
    const Services& services;
    store::Catalog& catalog;
    store::MessageStore& messages;
    const sync::BackupOptions& options;
};

// One account, run again while it fails on the network (retry.hpp).
sync::AccountReport backup_with_retries(const AccountRun& run, const sync::AccountConfig& account,
                                        const RetryPolicy& policy, Io& io, Verbosity verbosity) {
    const std::string what = "backup " + account.name;
    sync::AccountReport report;
    auto attempt = [&](int n) {
        sync::AccountReport r;
        try {
            r = run.services.backup_account(account, run.catalog, run.messages, run.options);
        } catch (const sync::StopRequested&) {
            throw;
        } catch (const std::exception& e) {
            r = failed_account(account.name, e);
        }
        if (n > 1) merge_earlier_attempt(r, report);
        report = std::move(r);
        return retry_cause(report);
    };
    run_with_retries_logged(policy, what, attempt, io.err, verbosity == Verbosity::Quiet);
    return report;
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
            throw ConfigError(config.file + ": no account named \"" + name + "\" (configured: " + known + ")");
        }
        selected.push_back(account);
    }
    return selected;
}

int run_backup(const Config& config, const BackupArgs& args, const Services& services, Io& io) {
    auto selected = select_accounts(config, args.accounts);

    auto session = args.dry_run ? open_store_snapshot(config, io) : open_store(config, io);
    if (!session) return kExitTempFail;
    const std::string& catalog_path = session->catalog_path;
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
        if (!args.dry_run && !run_id) run_id = catalog->begin_run("backup", run.started_at);
    };

    sync::Progress progress;
    sync::BackupOptions options;
    options.mailbox_filter = args.mailboxes;
    options.dry_run = args.dry_run;
    options.progress = &progress;
    options.catalog_path = catalog_path;
    options.stop_after_steps = stop_after_from_env();
    options.before_first_change = start_run;
    options.defer_settled = true;

    std::unique_ptr<ProgressBar> bar;
    if (io.err_is_terminal && !args.json && args.verbosity != Verbosity::Quiet)
        bar = std::make_unique<ProgressBar>(progress, io.err, terminal_width(2));

    std::vector<sync::AccountReport> reports;
    const AccountRun account_run{services, *catalog, *messages, options};
    for (const sync::AccountConfig* account : selected) {
        try {
            reports.push_back(backup_with_retries(account_run, *account, config.retry_for(account->name), io,
                                                  args.verbosity));
        } catch (const sync::StopRequested&) {
            // The test hook stands for a kill after some change: leave the
            // run unfinished, as a kill would.
            start_run();
            if (bar) bar->stop();
            io.err << "imapkeep: stopped after " << options.stop_after_steps << " steps (" << kStopAfterEnv
                   << ")\n";
            return kExitTempFail;
        }
    }
    if (bar) bar->stop();

    run.finished_at = std::time(nullptr);
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_start).count();
    run.exit_code = exit_code_for(reports);
    const nlohmann::json report = run_report_json(run, reports);
    if (!args.dry_run) {
        try {
            // One transaction: the run record and the unchanged mailboxes'
            // last-sync times (all a no-change run writes).
            catalog->begin();
            start_run();
            for (const auto& r : reports) sync::save_settled(*catalog, r);
            catalog->finish_run(*run_id, run.finished_at, run_status_for(run.exit_code), json_text(report));
            catalog->commit();
        } catch (const std::exception& e) {
            catalog->rollback();
            io.err << "imapkeep: cannot record the run in the catalog: " << e.what() << "\n";
            if (run.exit_code == kExitOk) run.exit_code = kExitTempFail;
        }
    }

    if (args.json)
        io.out << json_text(report, 2) << "\n";
    print_summary(io.out, io.err, reports, args.json ? Verbosity::Quiet : args.verbosity, args.dry_run);
    return run.exit_code;
}

}  // namespace imapkeep::cli
