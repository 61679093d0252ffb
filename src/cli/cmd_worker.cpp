// imapkeep worker (issue 13 "The fleet"): claim a due account of the fleet
// (fleet/lease.hpp), back it up as `imapkeep backup` does one account (the
// same engine, retries and run record), release it with the result, and take
// the next; until nothing is due (--once) or forever (--loop). Many workers,
// on one host or many, share one PostgreSQL catalog and one message store:
// the lease, not the store lock, keeps two of them off the same account.
// The lease also fences the account's catalog writes (postgres_catalog.hpp
// "Write fence"): a worker that stalled past its lease while another took the
// account over commits nothing more, and stops that account ("lost", 75).
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
#include "cli/message_store_place.hpp"
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
    store::MessageStore& messages;
    // The catalog's, unfenced: each account's connections add its lease.
    store::PostgresCatalogOptions catalog_options;
    fleet::FleetDb& heartbeat_db;
    const std::atomic<bool>& signalled;
};

// The catalog options of one leased account: every write fenced by the
// lease; the fence's first refusal raises `stop`, so the engine stops at
// its next durable boundary as it does when the heartbeat finds the lease lost.
store::PostgresCatalogOptions fenced_options(const FleetRun& run, const fleet::Lease& lease,
                                             std::atomic<bool>& stop) {
    auto options = run.catalog_options;
    options.fence = store::PostgresWriteFence{lease.account.name, lease.owner, lease.generation,
                                              [&stop] { stop = true; }, run.args.lease};
    return options;
}

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

sync::AccountReport backup_with_retries(const FleetRun& run, store::Catalog& catalog,
                                        const sync::AccountConfig& account,
                                        const sync::BackupOptions& options,
                                        const RetryPolicy& policy) {
    LogTee retries(run.args.verbosity == Verbosity::Quiet ? nullptr : &run.io.err, run.io.log,
                   LogLevel::Warning, account.name);
    return cli::backup_with_retries(
               account.name,
               [&] { return run.services.backup_account(account, catalog, run.messages, options); },
               policy, options.stop, &retries)
        .report;
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
void record_run(store::Catalog& catalog, std::optional<store::Id>& run_id, const RunInfo& info,
                const std::string& status, const sync::AccountReport& report) {
    nlohmann::json json = run_report_json(info, {report}, ReportDetail::News);
    json["status"] = status;
    catalog.begin();
    try {
        if (!run_id) run_id = catalog.begin_run("backup", info.started_at);
        sync::save_settled(catalog, report);
        catalog.finish_run(*run_id, info.finished_at, status, json_text(json));
        catalog.commit();
    } catch (...) {
        catalog.rollback();
        throw;
    }
}

// The run record of a stopped account says so, as `backup` records an
// interrupted run; failing to write it costs little: the record stays open,
// and the account's next claim closes it (fleet/lease.hpp).
// A lost lease's fence refuses it: the account is another worker's now.
void finish_stopped_run(store::Catalog& catalog, store::Id run_id, const std::string& status) {
    try {
        catalog.finish_run(run_id, std::time(nullptr), status, "{}");
    } catch (const std::exception&) {
        // The catalog connection may be what failed, or the fence.
    }
}

// An account stopped at a durable boundary, by a signal or a lost lease:
// what is saved stays, the next holder resumes.
fleet::RunOutcome stopped_account(const FleetRun& run, store::Catalog& catalog,
                                  const std::string& name, const std::optional<store::Id>& run_id) {
    const bool lost = !run.signalled;
    const std::string why = lost ? "lost" : "interrupted";
    run.io.err << "imapkeep worker: " << name << ": " << why
               << (lost ? " (the lease expired and another worker took it)" : "")
               << "; the next run resumes\n";
    if (run_id) finish_stopped_run(catalog, *run_id, why);
    return {kExitTempFail, why, "", true};
}

// The engine's options for one account: the fleet's catalog connections, a
// stop flag (signal or lost lease), the run record started before the first
// change (`start_run`), settled mailboxes saved with the run record.
sync::BackupOptions backup_options(const FleetRun& run, CatalogOpener open_catalog,
                                   const std::atomic<bool>& stop, std::function<void()> start_run) {
    sync::BackupOptions options;
    options.open_catalog = std::move(open_catalog);
    // The fleet's catalog is a server: its connections stay one per worker.
    options.overlap_mailboxes = false;
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
    const auto catalog_options = fenced_options(run, lease, stop);
    std::unique_ptr<store::Catalog> catalog;
    try {
        catalog = store::open_postgres_catalog(catalog_options);
    } catch (const std::exception& e) {
        run.io.err << "imapkeep worker: " << name
                   << ": cannot open the catalog: " << util::printable_utf8(e.what()) << "\n";
        return {kExitTempFail, "failed", util::printable_utf8(e.what()), false};
    }

    RunInfo info;
    info.started_at = std::time(nullptr);
    const auto started = Clock::now();
    std::optional<store::Id> run_id;
    const auto options = backup_options(
        run, [catalog_options] { return store::open_postgres_catalog(catalog_options); }, stop,
        [&] {
            if (!run_id) run_id = catalog->begin_run("backup", info.started_at);
        });
    const std::string retry_key =
        lease.account.template_account.empty() ? name : lease.account.template_account;
    sync::AccountReport report;
    try {
        report =
            backup_with_retries(run, *catalog, account, options, run.config.retry_for(retry_key));
    } catch (const sync::StopRequested&) {
        return stopped_account(run, *catalog, name, run_id);
    }
    info.finished_at = std::time(nullptr);
    info.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    info.exit_code = exit_code_for({report});
    std::string status = run_status_for(info.exit_code);
    try {
        record_run(*catalog, run_id, info, status, report);
    } catch (const store::LeaseLost&) {
        // The engine finished before it saw the stop the fence raised.
        return stopped_account(run, *catalog, name, run_id);
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
        if (lease->closed_run && run.args.verbosity != Verbosity::Quiet)
            run.io.err << "imapkeep worker: " << lease->account.name << ": the run record "
                       << *lease->closed_run
                       << " of its last holder, whose lease ended before the run did, is now closed as "
                          "interrupted\n";
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
    std::filesystem::create_directories(config.store_path);
    auto messages = open_message_store(config, false);

    StopSignals signals;
    const std::string owner = (args.id.empty() ? "" : args.id + "@") + fleet::new_lease_owner();
    FleetRun run{config,       args,          services,
                 io,           *messages,     worker_catalog_options(config),
                 heartbeat_db, signals.flag()};
    const int worst = work(run, leases, owner);
    if (signals.signal() != 0) {
        io.err << "imapkeep worker: stopped by a signal; the lease was released and the next "
                  "worker resumes\n";
        return exit_code_for_signal(signals.signal());
    }
    return worst;
}

}  // namespace imapkeep::cli
