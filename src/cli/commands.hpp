// The subcommands behind the command line (app.hpp parses, these run).
// Each returns an exit code (exit_codes.hpp) and never calls exit(): tests run
// them in-process. Output goes to Io, never straight to std::cout/cerr.
#pragma once

#include "cli/config.hpp"
#include "cli/report.hpp"

#include <imapkeep/sync/backup.hpp>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

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

// The environment variable of the crash-safety test hook: stop the backup after
// N durable steps (sync::BackupOptions::stop_after_steps).
inline constexpr const char* kStopAfterEnv = "IMAPKEEP_TEST_STOP_AFTER";

int run_backup(const Config& config, const BackupArgs& args, const Services& services, Io& io);
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
