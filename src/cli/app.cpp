#include "cli/app.hpp"

#include "cli/archive_commands.hpp"
#include "cli/cmd_auth.hpp"
#include "cli/cmd_init.hpp"

#include "cli/exit_codes.hpp"
#include "cli/log.hpp"
#include "cli/permissions.hpp"
#include "cli/server_warnings.hpp"
#include "cli/trace.hpp"

#include <imapkeep/util/utf8.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include <sys/stat.h>
#include <unistd.h>

#include <iostream>

#ifndef IMAPKEEP_VERSION
#define IMAPKEEP_VERSION "unknown"
#endif

namespace imapkeep::cli {

namespace {

struct Options {
    std::string config;
    std::string log_file;
    std::vector<std::string> accounts;
    std::string account;  // restore and export: one source
    std::vector<std::string> mailboxes;
    bool dry_run = false;
    bool json = false;
    bool quiet = false;
    int verbose = 0;  // -v: a line per mailbox; -vv: also the IMAP conversation
    bool server = false;
    bool repair = false;
    // restore / export (issue 4)
    std::string to, prefix, at, format, output, url, password_command, password_file, ca_file;
    bool plaintext = false;
    InitArgs init;
    bool timer = false, no_timer = false;
};

void add_config_option(CLI::App& sub, Options& o) {
    sub.add_option("--config", o.config,
                   "Config file (default: $XDG_CONFIG_HOME/imapkeep/config.toml, else "
                   "~/.config/imapkeep/config.toml)")
        ->type_name("FILE");
}

// Every command but init and doctor, which change nothing and write no log.
void add_log_option(CLI::App& sub, Options& o) {
    sub.add_option("--log-file", o.log_file,
                   "Append one line per event (run start and end, each mailbox, every warning and "
                   "error, retries) to this file; overrides log_file in the config; none under --dry-run")
        ->type_name("FILE");
}

void add_verbosity(CLI::App& sub, Options& o) {
    auto* q = sub.add_flag("-q,--quiet", o.quiet, "Print nothing when all is well (for cron)");
    auto* v = sub.add_flag("-v,--verbose", o.verbose,
                           "One line per mailbox; -vv also prints the IMAP conversation on stderr "
                           "(passwords, tokens and SASL exchanges redacted)");
    q->excludes(v);
}

void add_init_options(CLI::App& sub, Options& o) {
    InitSettings& s = o.init.settings;
    sub.add_option("--host", s.host, "IMAP server host name");
    sub.add_option("--port", s.port, "Port (default 993 with tls, 143 with starttls or none)")
        ->check(CLI::Range(1, 65535));
    sub.add_option("--security", s.security, "tls (default), starttls, or none (loopback only)")
        ->check(CLI::IsMember({"tls", "starttls", "none"}));
    sub.add_option("--user", s.user, "Login name");
    sub.add_option("--password-command", s.password_command,
                   "Command printing the password (written to the config)");
    sub.add_option("--password-file", s.password_file,
                   "File holding the password (its path is written, not the password)")
        ->type_name("FILE");
    sub.add_option("--ca-file", s.ca_file, "Trust the CAs in this PEM file (default: the system's)")
        ->type_name("FILE");
    sub.add_option("--store", s.store,
                   "Where the backup goes (default $XDG_DATA_HOME/imapkeep, else ~/.local/share/imapkeep)")
        ->type_name("PATH");
    sub.add_option("--name", s.name, "Account name (default: from the user name)");
    sub.add_option("--output", o.init.output, "Config file to write (default: the --config default)")
        ->type_name("FILE");
    sub.add_flag("--force", o.init.force, "Replace an existing config file");
    auto* timer = sub.add_flag("--timer", o.timer, "Enable the systemd user timer without asking");
    auto* no_timer = sub.add_flag("--no-timer", o.no_timer, "Neither ask about nor print the timer");
    timer->excludes(no_timer);
}

// The first word that is neither an option nor the value of the global
// --config or --log-file: the command the user meant, known or not.
std::optional<std::string> command_word(int argc, const char* const* argv) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--config" || arg == "--log-file") {
            ++i;
            continue;
        }
        if (!arg.empty() && arg.front() == '-') continue;
        return std::string(arg);
    }
    return std::nullopt;
}

bool is_command(CLI::App& app, const std::string& word) {
    auto all = app.get_subcommands([](CLI::App*) { return true; });
    return std::any_of(all.begin(), all.end(), [&](CLI::App* sub) { return sub->get_name() == word; });
}

// "backup " when the error came after that command, else "".
std::string parsed_command(CLI::App& app) {
    for (auto* sub : app.get_subcommands()) return sub->get_name() + " ";
    return "";
}

Verbosity verbosity_of(const Options& o) {
    return o.quiet ? Verbosity::Quiet : o.verbose > 0 ? Verbosity::Verbose : Verbosity::Normal;
}

// -vv: the IMAP conversation of every account's connections (trace.hpp).
void trace_connections(Config& config, std::ostream& err) {
    for (auto& account : config.accounts) account.connect.client.trace = connection_trace(err, account.name);
}

// The run log: --log-file, else log_file; syslog by the config's rule. An
// unwritable log file is a config error, reported before anything runs. A dry
// run writes nothing anywhere (issue 11): no log file, no syslog.
int open_log(Logger& log, const std::string& path, const std::string& syslog_mode, bool dry_run,
             Io& io) {
    if (dry_run) return kExitOk;
    if (!path.empty()) {
        try {
            log.open_file(path);
        } catch (const std::exception& e) {
            io.err << "imapkeep: " << e.what() << "\n";
            return kExitUsage;
        }
    }
    if (io.syslog_available && syslog_wanted(syslog_mode, io.err_is_terminal)) log.use_syslog();
    if (log.active()) io.log = &log;
    return kExitOk;
}

// Every account that needs a password can get one: a source is named and a
// password_file is there. Otherwise the first connection would fail with exit
// 3, after the lock and maybe other accounts' work; this is a config error.
int check_password_sources(const Config& config, std::ostream& err) {
    std::vector<std::string> problems = secret_file_problems(config.secret_files, config.file);
    const char* env = std::getenv("IMAPKEEP_PASSWORD");
    if (!env || !*env)
        problems.insert(problems.end(), config.accounts_without_password.begin(),
                        config.accounts_without_password.end());
    for (const auto& p : problems) err << "imapkeep: " << p << "\n";
    return problems.empty() ? kExitOk : kExitUsage;
}

}  // namespace

int run_app(int argc, const char* const* argv, const Services& services, Io& io) {
    CLI::App app{"imapkeep: incremental, crash-safe IMAP backups into a SQLite catalog and a "
                 "Maildir++ tree.\n\nNetwork failures are retried (config keys retries, retry_delay; restore_settle).\n"
                 "Exit codes: 0 ok, 1 some mailboxes failed (or the connection kept dropping), 2 usage "
                 "or config error, 3 no working connection (network after the retries, TLS, host key, "
                 "authentication), 75 store locked, temporary failure, or a daily budget spent "
                 "(daily_download_mb, daily_upload_mb; the next run resumes) or a server that refused more (its "
                 "daily limit, throttling after every wait, a restore target's full quota), 130/143 backup interrupted by "
                 "SIGINT/SIGTERM (the next run resumes).",
                 "imapkeep"};
    app.set_version_flag("--version", "imapkeep " IMAPKEEP_VERSION);
    app.footer("First time? `imapkeep init` writes a config and `imapkeep doctor` checks it.");
    // At most one; none is handled after parsing, so that a mistyped command
    // is named in the error ("not expected: bakup") instead of "a subcommand is
    // required".
    app.require_subcommand(0, 1);
    Options o;
    // Before the command too: `imapkeep --config F status`.
    add_config_option(app, o);
    add_log_option(app, o);

    auto* backup = app.add_subcommand("backup", "Pull every configured mailbox into the store");
    add_config_option(*backup, o);
    add_log_option(*backup, o);
    backup->add_option("--account", o.accounts, "Only this account (repeatable)")->type_name("NAME");
    backup->add_option("--mailbox", o.mailboxes, "Only mailboxes matching this LIST pattern (repeatable)")
        ->type_name("PATTERN");
    backup->add_flag("--dry-run", o.dry_run, "Show what would be fetched; change nothing");
    backup->add_flag("--json", o.json, "Print the run report as JSON on stdout");
    add_verbosity(*backup, o);

    auto* status = app.add_subcommand("status", "Per account and mailbox: messages, bytes, last sync, sync path");
    add_config_option(*status, o);
    add_log_option(*status, o);
    status->add_option("--account", o.accounts, "Only this account (repeatable)")->type_name("NAME");
    status->add_flag("--json", o.json, "Print as JSON");

    auto* verify = app.add_subcommand(
        "verify", "Re-hash every stored file against the catalog; exit 1 on missing or corrupt files");
    add_config_option(*verify, o);
    add_log_option(*verify, o);
    verify->add_option("--account", o.accounts, "Only this account (repeatable)")->type_name("NAME");
    verify->add_flag("--server", o.server, "Also compare UIDs, flags and Gmail labels with the server (read-only)");
    verify->add_flag("--repair", o.repair,
                     "Fetch missing or damaged files again from the server (by UID, after checking "
                     "UIDVALIDITY; kept only if the SHA-256 matches the catalog's); make Gmail label "
                     "links again from the copy; give a file that shares a Gmail label link's name "
                     "one of its own");
    verify->add_flag("--json", o.json, "Print the findings as JSON");
    add_verbosity(*verify, o);

    auto* restore = app.add_subcommand("restore", "APPEND backed-up mail to an account, as it is or as it was at a time");
    add_config_option(*restore, o);
    add_log_option(*restore, o);
    restore->add_option("--account", o.account, "Source account")->type_name("SRC")->required();
    restore->add_option("--to", o.to, "Target account (another [[account]], or SRC)")->type_name("TARGET")->required();
    restore->add_option("--mailbox", o.mailboxes, "Only mailboxes matching this pattern (repeatable)")
        ->type_name("PATTERN");
    restore->add_option("--prefix", o.prefix, "Put restored mailboxes under this prefix, e.g. \"Restored/\"");
    restore->add_option("--at", o.at, "Restore the state at this time (ISO 8601 or YYYY-MM-DD)")->type_name("TIME");
    restore->add_flag("--dry-run", o.dry_run, "Say what would be created and appended");
    restore->add_flag("--json", o.json, "Print the report as JSON");
    add_verbosity(*restore, o);

    auto* export_ = app.add_subcommand("export", "Write an mbox, Maildir or .eml archive from the store, or straight from a server with --url");
    add_config_option(*export_, o);
    add_log_option(*export_, o);
    export_->add_option("--account", o.account, "Account to export from the store")->type_name("NAME");
    export_->add_option("--url", o.url, "One-shot export straight from a server: imaps://USER@HOST[:PORT][/MAILBOX]");
    export_->add_option("--format", o.format, "Archive format")->check(CLI::IsMember({"mbox", "maildir", "eml"}))->required();
    export_->add_option("--output", o.output, "Where to write the archive: a directory, or one mbox file when --format mbox covers one mailbox")->type_name("PATH")->required();
    export_->add_option("--mailbox", o.mailboxes, "Only mailboxes matching this pattern (repeatable)")
        ->type_name("PATTERN");
    export_->add_option("--at", o.at, "Export the state at this time (ISO 8601 or YYYY-MM-DD)")->type_name("TIME");
    export_->add_option("--password-command", o.password_command, "With --url: command printing the password");
    export_->add_option("--password-file", o.password_file, "With --url: file holding the password");
    export_->add_option("--ca-file", o.ca_file,
                        "With --url: trust the CAs in this PEM file (default: the system's)")
        ->type_name("FILE");
    export_->add_flag("--plaintext", o.plaintext,
                      "With an imap:// URL: no TLS at all (default: STARTTLS, required). Loopback only");
    export_->add_flag("--json", o.json, "Print the report as JSON");
    add_verbosity(*export_, o);

    auto* init = app.add_subcommand("init", "Write a config for one account: asks on a terminal (or takes the flags), "
                                            "shows the server's mailboxes, offers the hourly timer");
    add_config_option(*init, o);  // the file to write, as --output
    add_init_options(*init, o);

    auto* doctor = app.add_subcommand("doctor", "Check the config, each account's connection and the store; "
                                                "one OK/WARN/FAIL line each, with a hint");
    add_config_option(*doctor, o);
    doctor->add_option("--account", o.accounts, "Only this account (repeatable)")->type_name("NAME");

    auto* auth = app.add_subcommand("auth", "Authorize imapkeep to read an OAuth2 account (Gmail, Microsoft 365): "
                                            "shows a URL and a code to enter there, then keeps the refresh token");
    add_config_option(*auth, o);
    auth->add_option("ACCOUNT", o.account, "The [[account]] to authorize (auth = \"oauth2\")")->required();

    WorkerArgs worker_args;
    double poll_seconds = 60, lease_seconds = 300;
    bool once_flag = false;
    auto* worker = app.add_subcommand("worker", "Back up the fleet's accounts (a PostgreSQL catalog): claim a due one "
                                                "with a lease, back it up, release it, take the next");
    add_config_option(*worker, o);
    add_log_option(*worker, o);
    auto* once = worker->add_flag("--once", once_flag, "Stop when no account is due (the default: for cron and Kubernetes CronJobs)");
    auto* loop = worker->add_flag("--loop", worker_args.loop, "Never stop: when none is due, wait --poll seconds and look again");
    once->excludes(loop);
    worker->add_option("--poll", poll_seconds, "With --loop: seconds between looks when nothing is due (default 60)")
        ->check(CLI::Range(0.1, 86400.0));
    worker->add_option("--lease", lease_seconds,
                       "Seconds an account stays ours without a renewal (renewed every third of it; default 300). "
                       "A worker killed mid-account loses it after that, and another worker resumes the account; "
                       "one that stalled past it commits nothing more for the account (exit 75)")
        ->check(CLI::Range(1.0, 86400.0));
    worker->add_option("--max-accounts", worker_args.max_accounts, "Stop after this many accounts (default: no limit)");
    worker->add_option("--id", worker_args.id, "Name this worker in the leases it holds (default: host:pid)");
    add_verbosity(*worker, o);

    GcArgs gc_args;
    auto* gc = app.add_subcommand("gc", "Delete the S3 objects no catalog row names (backend = \"postgres+s3\"): "
                                        "marks the unreferenced ones older than the grace, deletes those marked a grace ago");
    add_config_option(*gc, o);
    add_log_option(*gc, o);
    gc->add_flag("--dry-run", o.dry_run, "List what would be deleted, with counts and bytes; change nothing");
    gc->add_option("--grace", gc_args.grace,
                   "How old an unreferenced object must be, and how long ago marked, before it goes "
                   "(7d, 36h, 90m, 3600s; default: [store.s3] gc_grace, else 7d)")
        ->type_name("DURATION");
    gc->add_flag("--json", gc_args.json, "Print the counts as JSON");

    AccountsArgs accounts_args;
    auto* accounts = app.add_subcommand("accounts", "The fleet's accounts in the PostgreSQL catalog: add, list, remove, import");
    add_config_option(*accounts, o);
    add_log_option(*accounts, o);
    accounts->require_subcommand(1);
    auto* accounts_add = accounts->add_subcommand("add", "Add an account (due at once); its password comes from a command, never stored");
    accounts_add->add_option("NAME", accounts_args.name, "Account name (names its folder in the store)")->required();
    accounts_add->add_option("--host", accounts_args.host, "IMAP server host name (default: the template's)");
    accounts_add->add_option("--port", accounts_args.port, "Port (default: the template's, else 993 with tls, 143 without)")
        ->check(CLI::Range(1, 65535));
    accounts_add->add_option("--tls", accounts_args.tls, "implicit, starttls or none (default: the template's, else implicit)")
        ->check(CLI::IsMember({"implicit", "starttls", "none"}));
    accounts_add->add_option("--user", accounts_args.user, "The mailbox's login name")->required();
    accounts_add->add_option("--master-user", accounts_args.master_user,
                             "Log in as this master user on behalf of --user (SASL PLAIN authorization identity)");
    accounts_add->add_option("--password-command", accounts_args.password_command,
                             "Command printing the password (of the master user with --master-user); "
                             "%u user, %m master user, %a account name, %% a %");
    accounts_add->add_option("--template", accounts_args.template_account,
                             "An [[account]] of the config whose other settings (CA file, mailboxes, connections...) apply")
        ->type_name("ACCOUNT");
    accounts_add->add_option("--interval", accounts_args.interval_minutes, "Minutes from the end of a run to the next (default 60)")
        ->check(CLI::Range(1.0, 525600.0));
    auto* accounts_list = accounts->add_subcommand("list", "One line per account: next due time, last run, holder");
    accounts_list->add_flag("--json", accounts_args.json, "Print as JSON");
    auto* accounts_remove = accounts->add_subcommand("remove", "Remove an account from the fleet (its backup stays)");
    accounts_remove->add_option("NAME", accounts_args.name, "Account name")->required();
    auto* accounts_import = accounts->add_subcommand("import", "Add the accounts of a CSV file (header: name,user[,host,port,tls,"
                                                               "master_user,password_command,template,interval_minutes])");
    accounts_import->add_option("FILE", accounts_args.file, "The CSV file")->required()->type_name("FILE");
    // --config and --log-file also after the action, where every other command takes them.
    for (auto* action : {accounts_add, accounts_list, accounts_remove, accounts_import}) {
        add_config_option(*action, o);
        add_log_option(*action, o);
    }

    if (auto word = command_word(argc, argv); word && !is_command(app, *word)) {
        io.err << "imapkeep: unknown command \"" << util::printable_utf8(*word)
               << "\" (commands: backup, status, verify, restore, export, init, doctor, auth, worker, accounts, gc; see imapkeep --help)\n";
        return kExitUsage;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e, io.out, io.err) == 0 ? kExitOk : kExitUsage;
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e, io.out, io.err) == 0 ? kExitOk : kExitUsage;
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e, io.out, io.err) == 0 ? kExitOk : kExitUsage;
    } catch (const CLI::ParseError& e) {
        io.err << "imapkeep: " << e.what() << " (see imapkeep " << parsed_command(app) << "--help)\n";
        return kExitUsage;
    }

    if (app.get_subcommands().empty()) {
        io.err << app.help()
               << "\nimapkeep: a command is required (backup, status, verify, restore, export, init, doctor, auth, worker, accounts, gc)\n";
        return kExitUsage;
    }
    if (init->parsed()) {
        if (o.timer || o.no_timer) o.init.timer = o.timer;
        if (o.init.output.empty()) o.init.output = o.config;
        o.init.in = &std::cin;
        o.init.interactive = ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1;
        return run_init(o.init, io);
    }
    if (doctor->parsed())
        return run_doctor(o.config.empty() ? default_config_path() : o.config, o.accounts, io);
    if (export_->parsed() && !o.url.empty()) {
        // A one-shot archive needs no config file; --log-file still works.
        ::umask(077);
        Logger log;
        struct Detach {
            Io& io;
            ~Detach() { io.log = nullptr; }
        } detach{io};
        if (int code = open_log(log, o.log_file, Config{}.syslog, false, io); code != kExitOk)
            return code;
        try {
            ExportArgs args{o.account, o.url, o.format, o.output, o.mailboxes, o.at, o.password_command,
                            o.password_file, o.plaintext, o.json, verbosity_of(o)};
            args.trace = o.verbose >= 2;
            args.ca_file = o.ca_file;
            return run_export(Config{}, args, io);
        } catch (const ConfigError& e) {
            io.err << "imapkeep: " << e.what() << "\n";
            return kExitUsage;
        }
    }

    Config config;
    try {
        config = load_config(o.config.empty() ? default_config_path() : o.config);
    } catch (const ConfigError& e) {
        io.err << "imapkeep: " << e.what() << "\n";
        return kExitUsage;
    }
    Logger log;
    struct Detach {
        Io& io;
        ~Detach() { io.log = nullptr; }  // `log` dies with this call
    } detach{io};
    if (int code = open_log(log, o.log_file.empty() ? config.log_file : o.log_file, config.syslog,
                            o.dry_run, io);
        code != kExitOk)
        return code;
    for (const auto& w : config.warnings) {
        io.err << "imapkeep: WARNING: " << w << "\n";
        log.log(LogLevel::Warning, "", "", w);
    }
    if (o.verbose >= 2) trace_connections(config, io.err);
    if (!o.quiet) report_skipped_server_data(config, io.err);
    // Only commands that log in need the passwords: status works without.
    const bool logs_in = backup->parsed() || restore->parsed() || (verify->parsed() && (o.server || o.repair));
    if (logs_in)
        if (int code = check_password_sources(config, io.err); code != kExitOk) return code;
    auto exposed = secret_exposure(config.secret_files);
    for (const auto& e : exposed.errors) io.err << "imapkeep: " << e << "\n";
    if (!exposed.errors.empty()) return kExitUsage;
    for (const auto& w : exposed.warnings) io.err << "imapkeep: WARNING: " << w << "\n";
    if (auto w = exposure_warning(config.file, config.store_path)) io.err << "imapkeep: " << *w << "\n";

    try {
        if (backup->parsed()) {
            // Everything the store gets from here on holds mail: private.
            ::umask(077);
            BackupArgs args{o.accounts, o.mailboxes, o.dry_run, o.json, verbosity_of(o)};
            return run_backup(config, args, services, io);
        }
        if (restore->parsed()) {
            ::umask(077);
            return run_restore(config, RestoreArgs{o.account, o.to, o.mailboxes, o.prefix, o.at,
                                                   o.dry_run, o.json, verbosity_of(o)},
                               io);
        }
        if (export_->parsed()) {
            if (!o.ca_file.empty()) {
                io.err << "imapkeep export: --ca-file goes with --url (an account's CA is its ca_file in the config)\n";
                return kExitUsage;
            }
            ::umask(077);
            return run_export(config, ExportArgs{o.account, "",
                                                 o.format, o.output, o.mailboxes, o.at, "", "", false,
                                                 o.json, verbosity_of(o)},
                              io);
        }
        if (auth->parsed()) {
            // The refresh token is a secret: whatever file gets it is private.
            ::umask(077);
            return run_auth(config, AuthArgs{o.account, {}, {}}, io);
        }
        if (worker->parsed()) {
            ::umask(077);
            worker_args.poll = std::chrono::milliseconds(static_cast<std::int64_t>(poll_seconds * 1000));
            worker_args.lease = std::chrono::milliseconds(static_cast<std::int64_t>(lease_seconds * 1000));
            worker_args.verbosity = verbosity_of(o);
            return run_worker(config, worker_args, services, io);
        }
        if (accounts->parsed()) {
            for (auto* sub : {accounts_add, accounts_list, accounts_remove, accounts_import})
                if (sub->parsed()) accounts_args.action = sub->get_name();
            return run_accounts(config, accounts_args, io);
        }
        if (gc->parsed()) {
            gc_args.dry_run = o.dry_run;
            return run_gc(config, gc_args, io);
        }
        if (status->parsed()) return run_status(config, o.accounts, o.json, io);
        if (verify->parsed()) {
            VerifyArgs args{o.accounts, o.server, o.json, verbosity_of(o), o.repair};
            return run_verify(config, args, io);
        }
    } catch (const ConfigError& e) {
        io.err << "imapkeep: " << e.what() << "\n";
        log.log(LogLevel::Error, "", "", e.what());
        return kExitUsage;
    } catch (const std::exception& e) {
        io.err << "imapkeep: " << e.what() << "\n";
        log.log(LogLevel::Error, "", "", e.what());
        return kExitTempFail;
    }
    return kExitUsage;
}

}  // namespace imapkeep::cli
