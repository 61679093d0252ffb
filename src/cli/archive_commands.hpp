// imapkeep restore and imapkeep export (issue 4): the command-line side of the
// archive layer (include/imapkeep/archive/). Like the other commands, each
// returns an exit code (exit_codes.hpp) and writes only to Io.
//
// Exit codes: 0 all done; 1 some message or mailbox failed (each reported),
// the restore's connection kept dropping after the target was reached (it
// retries first, retry.hpp), or an export was not published; 2 usage (bad
// --at, unknown account, both or neither of --account/--url, bad URL, output
// path taken); 3 the target was never reached (network after the retries,
// TLS, authentication); 75 store locked, a network failure of export --url
// (no retries), or the restore stopped by the test hook (kStopAfterEnv).
#pragma once

#include "cli/commands.hpp"
#include "cli/config.hpp"
#include "cli/report.hpp"

#include <imapkeep/archive/restore.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace imapkeep::cli {

struct RestoreArgs {
    std::string account;                 // --account SRC
    std::string to;                      // --to TARGET
    std::vector<std::string> mailboxes;  // --mailbox patterns
    std::string prefix;                  // --prefix
    std::string at;                      // --at TIME, "" = now
    bool dry_run = false;
    bool json = false;
    Verbosity verbosity = Verbosity::Normal;
};

struct ExportArgs {
    std::string account;                 // --account NAME (from the store), or
    std::string url;                     // --url imaps://USER@HOST[:PORT][/MAILBOX]
    std::string format;                  // mbox | maildir | eml
    std::string output;                  // --output PATH
    std::vector<std::string> mailboxes;  // --mailbox patterns
    std::string at;                      // --at TIME (store exports only)
    std::string password_command;        // with --url
    std::string password_file;           // with --url; else IMAPKEEP_PASSWORD
    // With an imap:// URL: no TLS at all (default: STARTTLS, required). Only
    // for a server on loopback or a trusted link.
    bool allow_plaintext = false;
    bool json = false;
    Verbosity verbosity = Verbosity::Normal;
    bool trace = false;  // -vv with --url: the IMAP conversation on stderr
    std::string ca_file{};  // with --url: a PEM bundle to trust instead of the system's
};

// Both may throw ConfigError (-> exit 2 in run_app). `config` may be empty
// (no file) for an export with --url.
int run_restore(const Config& config, const RestoreArgs& args, Io& io);

// The restore run as --json prints it and the catalog records it (`at`: --at).
nlohmann::json restore_report_json(const RunInfo& run, const archive::RestoreReport& report,
                                   std::optional<std::int64_t> at);
// Failures and what the target could not keep (keywords, dates) go to io.err,
// the summary to io.out (not with -q).
void print_restore_report(Io& io, const archive::RestoreReport& report, const RestoreArgs& args);
int run_export(const Config& config, const ExportArgs& args, Io& io);

}  // namespace imapkeep::cli
