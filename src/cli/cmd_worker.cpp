// imapkeep worker (issue 13 "The fleet"): claim a due account of the fleet
// (fleet/lease.hpp), back it up as `imapkeep backup` does one account (the
// same engine, retries and run record), release it with the result, and take
// the next; until nothing is due (--once) or forever (--loop). Many workers,
// on one host or many, share one PostgreSQL catalog and one message store:
// the lease, not the store lock, keeps two of them off the same account.
#include <chrono>
#include <ctime>
#include <filesystem>
#include <imapkeep/fleet/account_registry.hpp>
#include <imapkeep/fleet/heartbeat.hpp>
#include <imapkeep/fleet/lease.hpp>
#include <imapkeep/fleet/password_template.hpp>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/postgres_catalog.hpp>
#include <imapkeep/util/utf8.hpp>
#include <optional>
#include <thread>

#include "cli/catalog_place.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/log_report.hpp"
#include "cli/report.hpp"
#include "cli/retry.hpp"
#include "cli/secrets.hpp"
#include "cli/signals.hpp"

namespace imapkeep::cli {

namespace {

using Clock = std::chrono::steady_clock;

imap::TlsMode tls_mode(const fleet::FleetAccount& row) {
    if (row.tls == "implicit") return imap::TlsMode::Implicit;
    if (row.tls == "starttls") return imap::TlsMode::StartTls;
    if (row.tls == "none") return imap::TlsMode::None;
    throw ConfigError("fleet account " + row.name + ": tls \"" + row.tls +
                      "\" (expected implicit, starttls or none)");
}

// The row's own password command, run once per account run however many
// connections the engine opens.
std::function<std::string()> fleet_password(const fleet::FleetAccount& row) {
    const std::string command = fleet::expand_password_command(row.password_command, row);
    return once([command, what = "fleet account " + row.name + ": password_command"] {
        return run_secret_command(command, what);
    });
}

const sync::AccountConfig* template_of(const Config& config, const fleet::FleetAccount& row) {
    if (row.template_account.empty()) return nullptr;
    const auto* t = config.find_account(row.template_account);
    if (!t)
        throw ConfigError(config.file + ": fleet account " + row.name + ": its template \"" +
                          row.template_account + "\" is no [[account]] of this config");
    return t;
}

struct FleetRun {
    const Config& config;
    const WorkerArgs& args;
    const Services& services;
    Io& io;
    store::Catalog& catalog;
    store::MessageStore& messages;
    CatalogOpener open_catalog;
    fleet::FleetDb& heartbeat_db;
    const std::atomic<bool>& signalled;
};

// The per-account stop flag: raised by the heartbeat when the lease is lost,
// and copied from the process's signal flag by a thread of its own (the
// engine watches one flag).
class StopRelay {
  public:
    StopRelay(const std::atomic<bool>& from, std::atomic<bool>& to)
        : m_thread([this, &from, &to] {
              while (!m_done) {
                  if (from) to = true;
                  std::this_thread::sleep_for(std::chrono::milliseconds(50));
              }
          }) {}
    ~StopRelay() {
        m_done = true;
        m_thread.join();
    }

  private:
    std::atomic<bool> m_done{false};
    std::thread m_thread;
};

// The wait before a retry, cut short by a stop (then StopRequested).
Sleep stoppable_sleep(const std::atomic<bool>& stop) {
    return [&stop](std::chrono::milliseconds delay) {
        const auto until = Clock::now() + delay;
        while (Clock::now() < until) {
            if (stop) throw sync::StopRequested{};
            std::this_thread::sleep_for(
                std::min<Clock::duration>(std::chrono::milliseconds(100), until - Clock::now()));
        }
    };
}

sync::AccountReport backup_with_retries(const FleetRun& run, const sync::AccountConfig& account,
                                        const sync::BackupOptions& options,
                                        const RetryPolicy& policy) {
    sync::AccountReport report;
    auto attempt = [&](int n) {
        if (options.stop->load()) throw sync::StopRequested{};
        sync::AccountReport r;
        try {
            r = run.services.backup_account(account, run.catalog, run.messages, options);
        } catch (const sync::StopRequested&) {
            throw;
        } catch (const std::exception& e) {
            r = failed_account(account.name, e);
        }
        if (n > 1) merge_earlier_attempt(r, report);
        report = std::move(r);
        return retry_cause(report);
    };
    LogTee retries(run.args.verbosity == Verbosity::Quiet ? nullptr : &run.io.err, run.io.log,
                   LogLevel::Warning, account.name);
    run_with_retries(policy, "backup " + account.name, attempt, &retries,
                     stoppable_sleep(*options.stop));
    return report;
}

// One line for fleet_accounts.last_error: the account's error, else the
// first failed mailbox's.
std::string first_error(const sync::AccountReport& report) {
    if (!report.error.empty()) return util::printable_utf8(report.error);
    for (const auto& m : report.mailboxes)
        if (m.failed()) return util::printable_utf8(m.name + ": " + m.errors.front());
    return "";
}

// Records the run in the catalog as `imapkeep backup` does (status shows it).
void record_run(const FleetRun& run, std::optional<store::Id>& run_id, const RunInfo& info,
                const std::string& status, const sync::AccountReport& report) {
    nlohmann::json json = run_report_json(info, {report}, ReportDetail::News);
    json["status"] = status;
    run.catalog.begin();
    try {
        if (!run_id) run_id = run.catalog.begin_run("backup", info.started_at);
        sync::save_settled(run.catalog, report);
        run.catalog.finish_run(*run_id, info.finished_at, status, json_text(json));
        run.catalog.commit();
    } catch (...) {
        run.catalog.rollback();
        throw;
    }
}

// The run record of a stopped account says so, as `backup` records an
// interrupted run; failing to write it costs nothing (a "running" record).
void finish_stopped_run(const FleetRun& run, store::Id run_id, const std::string& status) {
    try {
        run.catalog.finish_run(run_id, std::time(nullptr), status, "{}");
    } catch (const std::exception&) {
        // The catalog connection may be what failed.
    }
}

// The engine's options for one account: the fleet's catalog connections, a
// stop flag (signal or lost lease), the run record started before the first
// change (`start_run`), settled mailboxes saved with the run record.
sync::BackupOptions backup_options(const FleetRun& run, const std::atomic<bool>& stop,
                                   std::function<void()> start_run) {
    sync::BackupOptions options;
    options.open_catalog = run.open_catalog;
    options.stop = &stop;
    options.defer_settled = true;
    options.before_first_change = std::move(start_run);
    options.pacing_note = [&run](const std::string& line) {
        LogTee note(run.args.verbosity == Verbosity::Quiet ? nullptr : &run.io.err, run.io.log,
                    LogLevel::Warning, "");
        note << "imapkeep: " << util::printable_utf8(line) << "\n";
    };
    return options;
}

// The config as it is now, for one account run. A --loop worker lives for
// months: read again, the templates' password sources run again for each
// account (their results are cached per run, and a failed command would
// otherwise fail every later account), and an edited config applies.
// -vv's trace, set on the loaded config, is carried over.
Config current_config(const Config& loaded) {
    std::error_code ec;
    if (loaded.file.empty() || !std::filesystem::exists(loaded.file, ec)) return loaded;
    Config config = load_config(loaded.file);
    for (auto& account : config.accounts)
        if (const auto* before = loaded.find_account(account.name))
            account.connect.client.trace = before->connect.client.trace;
    return config;
}

fleet::RunOutcome back_up_leased(const FleetRun& run, const fleet::Lease& lease) {
    const auto& name = lease.account.name;
    sync::AccountConfig account;
    try {
        account = fleet_account_config(current_config(run.config), lease.account);
    } catch (const std::exception& e) {
        run.io.err << "imapkeep worker: " << util::printable_utf8(e.what()) << "\n";
        return {kExitUsage, "failed", util::printable_utf8(e.what()), false};
    }
    std::atomic<bool> stop{false};
    const auto duration = run.args.lease;
    fleet::Heartbeat heartbeat(run.heartbeat_db, lease, duration, duration / 3, stop);
    StopRelay relay(run.signalled, stop);

    RunInfo info;
    info.started_at = std::time(nullptr);
    const auto started = Clock::now();
    std::optional<store::Id> run_id;
    const auto options = backup_options(run, stop, [&] {
        if (!run_id) run_id = run.catalog.begin_run("backup", info.started_at);
    });
    const std::string retry_key =
        lease.account.template_account.empty() ? name : lease.account.template_account;
    sync::AccountReport report;
    try {
        report = backup_with_retries(run, account, options, run.config.retry_for(retry_key));
    } catch (const sync::StopRequested&) {
        // A durable boundary: what is saved stays, the next holder resumes.
        const bool lost = !run.signalled;
        const std::string why = lost ? "lost" : "interrupted";
        run.io.err << "imapkeep worker: " << name << ": " << why
                   << (lost ? " (the lease expired and another worker took it)" : "")
                   << "; the next run resumes\n";
        if (run_id) finish_stopped_run(run, *run_id, why);
        return {kExitTempFail, why, "", true};
    }
    info.finished_at = std::time(nullptr);
    info.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    info.exit_code = exit_code_for({report});
    std::string status = run_status_for(info.exit_code);
    try {
        record_run(run, run_id, info, status, report);
    } catch (const std::exception& e) {
        run.io.err << "imapkeep worker: " << name
                   << ": cannot record the run in the catalog: " << e.what() << "\n";
        if (info.exit_code == kExitOk) info.exit_code = kExitTempFail;
    }
    print_summary(run.io.out, run.io.err, {report}, run.args.verbosity, false);
    return {info.exit_code, status, first_error(report), false};
}

// Waits `delay` unless a signal comes first.
void poll_wait(std::chrono::milliseconds delay, const std::atomic<bool>& signalled) {
    const auto until = Clock::now() + delay;
    while (Clock::now() < until && !signalled)
        std::this_thread::sleep_for(
            std::min<Clock::duration>(std::chrono::milliseconds(100), until - Clock::now()));
}

store::PostgresCatalogOptions worker_catalog_options(const Config& config) {
    store::PostgresCatalogOptions options;
    options.conninfo = config.catalog_postgres;
    options.schema = config.catalog_schema;
    // Accounts are disjoint (one lease each): writers need not take turns.
    options.serialize_writers = false;
    return options;
}

int work(const FleetRun& run, fleet::Leases& leases, const std::string& owner) {
    int worst = kExitOk;
    std::uint64_t done = 0;
    while (!run.signalled) {
        if (run.args.max_accounts > 0 && done >= run.args.max_accounts) break;
        auto lease = leases.claim(owner, run.args.lease);
        if (!lease) {
            if (!run.args.loop) break;
            poll_wait(run.args.poll, run.signalled);
            continue;
        }
        ++done;
        const auto outcome = back_up_leased(run, *lease);
        if (!leases.release(*lease, outcome))
            run.io.err << "imapkeep worker: " << lease->account.name
                       << ": the lease was no longer ours at release (expired and taken over, or "
                          "the account removed)\n";
        if (outcome.status != "interrupted") worst = worse_exit_code(worst, outcome.exit_code);
    }
    return worst;
}

}  // namespace

sync::AccountConfig fleet_account_config(const Config& config, const fleet::FleetAccount& row) {
    const sync::AccountConfig* base = template_of(config, row);
    sync::AccountConfig account = base ? *base : sync::AccountConfig{};
    account.name = row.name;
    auto& c = account.connect;
    if (!row.host.empty()) c.host = row.host;
    if (!row.tls.empty()) c.tls = tls_mode(row);
    if (row.port != 0)
        c.port = row.port;
    else if (!base || !row.tls.empty())
        c.port = c.tls == imap::TlsMode::Implicit ? 993 : 143;
    if (!row.user.empty()) c.user = row.user;
    if (!row.master_user.empty()) c.master_user = row.master_user;
    if (!row.password_command.empty()) c.password = fleet_password(row);
    if (c.host.empty() && c.command.empty() && !c.ssh)
        throw ConfigError("fleet account " + row.name +
                          ": no host (set one, or a template with one)");
    if (c.user.empty()) throw ConfigError("fleet account " + row.name + ": no user");
    if (!c.password && !c.oauth2_token)
        throw ConfigError("fleet account " + row.name +
                          ": no password command (set one, or a template with one)");
    return account;
}

int run_worker(const Config& config, const WorkerArgs& args, const Services& services, Io& io) {
    if (!catalog_in_postgres(config))
        throw ConfigError(config.file +
                          ": imapkeep worker needs a PostgreSQL catalog ([store] catalog = "
                          "\"postgresql://...\")");
    const fleet::FleetDbOptions db_options{config.catalog_postgres, config.catalog_schema};
    fleet::FleetDb db(db_options);
    fleet::FleetDb heartbeat_db(db_options);
    fleet::Leases leases(db);
    const auto catalog_options = worker_catalog_options(config);
    auto catalog = store::open_postgres_catalog(catalog_options);
    std::filesystem::create_directories(config.store_path);
    auto messages = store::open_maildir_store(config.store_path);

    StopSignals signals;
    const std::string owner = (args.id.empty() ? "" : args.id + "@") + fleet::new_lease_owner();
    FleetRun run{config,
                 args,
                 services,
                 io,
                 *catalog,
                 *messages,
                 [catalog_options] { return store::open_postgres_catalog(catalog_options); },
                 heartbeat_db,
                 signals.flag()};
    const int worst = work(run, leases, owner);
    if (signals.signal() != 0) {
        io.err << "imapkeep worker: stopped by a signal; the lease was released and the next "
                  "worker resumes\n";
        return exit_code_for_signal(signals.signal());
    }
    return worst;
}

}  // namespace imapkeep::cli
