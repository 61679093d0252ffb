// The subcommands behind the command line (app.hpp parses, these run).
// Each returns an exit code (exit_codes.hpp) and never calls exit(): tests run
// them in-process. Output goes to Io, never straight to std::cout/cerr.
#pragma once

#include "cli/config.hpp"
#include "cli/report.hpp"

#include <imapkeep/sync/backup.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace imapkeep::fleet {
struct FleetAccount;
}

namespace imapkeep::cli {

class Logger;

struct Io {
    std::ostream& out;
    std::ostream& err;
    bool err_is_terminal = false;  // progress bar only then
    // The real process (main) may log to syslog; in-process tests never do.
    bool syslog_available = false;
    Logger* log = nullptr;  // the run log (log.hpp), set by run_app; may be null
};

// The engine entry point, injected so the command line does not have to link
// the engine to be tested; main() passes sync::backup_account.
using BackupFunction = std::function<sync::AccountReport(
    const sync::AccountConfig&, store::Catalog&, store::MessageStore&, const sync::BackupOptions&)>;

struct Services {
    BackupFunction backup_account;
};

struct BackupArgs {
    std::vector<std::string> accounts;   // --account; empty = all
    std::vector<std::string> mailboxes;  // --mailbox patterns
    bool dry_run = false;
    bool json = false;
    Verbosity verbosity = Verbosity::Normal;
};

struct VerifyArgs {
    std::vector<std::string> accounts;
    bool server = false;
    bool json = false;
    Verbosity verbosity = Verbosity::Normal;
    bool repair = false;  // fetch missing or damaged files again (repair.hpp)
};

// imapkeep worker (cmd_worker.cpp; issue 13 "The fleet").
struct WorkerArgs {
    bool loop = false;                                  // --loop; else --once (the default)
    std::chrono::milliseconds poll{60 * 1000};          // --poll: idle wait with --loop
    std::chrono::milliseconds lease{300 * 1000};        // --lease: renewed every third of it
    std::uint64_t max_accounts = 0;                     // --max-accounts; 0 = no limit
    std::string id;                                     // --id: a prefix of the lease owner
    Verbosity verbosity = Verbosity::Normal;
};

// imapkeep accounts add|list|remove|import (cmd_accounts.cpp).
struct AccountsArgs {
    std::string action;  // add | list | remove | import
    std::string name;    // add, remove
    std::string file;    // import
    std::string host, tls, user, master_user, password_command, template_account;
    int port = 0;
    double interval_minutes = 60;
    bool json = false;
};

// imapkeep gc (cmd_gc.cpp): unreferenced S3 objects.
struct GcArgs {
    bool dry_run = false;
    std::string grace;  // --grace: "" = [store.s3] gc_grace
    bool json = false;
};

// The environment variable of the crash-safety test hook: stop the backup after
// N durable steps (sync::BackupOptions::stop_after_steps).
inline constexpr const char* kStopAfterEnv = "IMAPKEEP_TEST_STOP_AFTER";

int run_backup(const Config& config, const BackupArgs& args, const Services& services, Io& io);
// Claims due fleet accounts and backs them up, one at a time; the exit code
// is the worst of the accounts' (as `backup`), 130/143 after a signal (the
// current account stopped at a durable boundary, its lease released, due at
// once for the next worker). Throws ConfigError without a PostgreSQL catalog.
int run_worker(const Config& config, const WorkerArgs& args, const Services& services, Io& io);
int run_accounts(const Config& config, const AccountsArgs& args, Io& io);
// Deletes the S3 objects no catalog row names (store/s3_gc.hpp); exit 0, or
// 75 when S3 or the catalog failed midway (running again is safe). Throws
// ConfigError for a local store or a bad --grace.
int run_gc(const Config& config, const GcArgs& args, Io& io);
// A fleet row as the engine's account: its template [[account]] (if any)
// with the row's host, port, tls, user, master_user and password command
// over it. ConfigError when the template is unknown or a field is missing.
sync::AccountConfig fleet_account_config(const Config& config, const fleet::FleetAccount& row);
int run_status(const Config& config, const std::vector<std::string>& accounts, bool json, Io& io);
int run_verify(const Config& config, const VerifyArgs& args, Io& io);
// imapkeep doctor (cmd_doctor.cpp, doctor.hpp): loads the config itself, so a
// broken one is a FAIL line, not a usage error.
int run_doctor(const std::string& config_path, const std::vector<std::string>& accounts, Io& io);

// Resolves --account names against the config; unknown names -> ConfigError
// listing the configured ones.
std::vector<const sync::AccountConfig*> select_accounts(const Config& config,
                                                        const std::vector<std::string>& names);

}  // namespace imapkeep::cli
