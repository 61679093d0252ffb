// What a backup run prints: the --json run report and the human summary.
//
// The JSON report (stdout with --json, and stored with the run in the catalog):
//   { "command": "backup", "started_at": "2024-05-01T10:00:00Z",
//     "finished_at": "...", "seconds": 1.5, "dry_run": false,
//     "exit_code": 1, "status": "partial",
//     "accounts": [ { "name": "work", "error": null | "text",
//                     "error_kind": null | "network"|"tls"|"hostkey"|"auth"|"protocol",
//                     "transient": false,
//                     "totals": { "mailboxes", "new", "flag_changes", "expunged",
//                                 "bytes", "failed" },
//                     "mailboxes": [ { "name", "path", "new", "flag_changes",
//                                      "expunged", "bytes", "seconds", "errors": [],
//                                      "created", "deleted", "renamed_from",
//                                      "uidvalidity_reset", "deferred" } ],
//                     "budget": { see budget_report.hpp } } ] }
// "path" is how the mailbox was synced: QRESYNC, CONDSTORE, plain, unchanged,
// skipped, or deferred (the server's daily limit stopped it). "deferred"
// counts the new messages the daily budget left for the next run. No secret is ever part of a report: reports carry no config.
#pragma once

#include <imapkeep/sync/backup.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <ostream>
#include <vector>

namespace imapkeep::cli {

enum class Verbosity { Quiet, Normal, Verbose };

struct RunInfo {
    std::string command = "backup";
    std::int64_t started_at = 0;   // epoch seconds
    std::int64_t finished_at = 0;
    double seconds = 0;
    bool dry_run = false;
    int exit_code = 0;
};

// "network", "tls", "hostkey", "auth" or "protocol": error_kind in --json reports.
const char* connect_error_kind_name(imap::ConnectError::Kind kind);

// What the engine could not contain becomes an account-level outcome (a
// ConnectError keeps its kind and transience), so one account's trouble
// never hides the others' results: backup's and worker's runs.
sync::AccountReport failed_account(const std::string& name, const std::exception& e);

// Something happened in the mailbox: mail, flags, expunges, a create, delete,
// rename or UIDVALIDITY reset, an error, or it was skipped (a note). The run log and the catalog's run
// record give quiet mailboxes no entry of their own, only a count.
bool has_news(const sync::MailboxReport& mailbox);

// Every mailbox (--json), or only those with news plus "quiet_mailboxes" per
// account (the run record: 1,000 quiet mailboxes stored 170 KB an hour).
enum class ReportDetail { Every, News };
nlohmann::json mailbox_json(const sync::MailboxReport& mailbox);
nlohmann::json account_json(const sync::AccountReport& account, ReportDetail detail = ReportDetail::Every);
nlohmann::json run_report_json(const RunInfo& run, const std::vector<sync::AccountReport>& reports,
                               ReportDetail detail = ReportDetail::Every);

// JSON text for stdout and the catalog's run record. Server text may hold any
// bytes (Quirk(Cyrus 3.6) sends raw pointer bytes as a MAILBOXID); invalid
// UTF-8 becomes U+FFFD, so the output is always valid UTF-8 and never throws.
std::string json_text(const nlohmann::json& value, int indent = -1);

// "2024-05-01T10:00:00Z"
std::string iso8601_utc(std::int64_t epoch);
// "512 B", "1.5 KB", "12.3 MB" (powers of 1024).
std::string human_bytes(std::uint64_t bytes);
// "1 mailbox", "0 mailboxes", "2 mailboxes".
std::string count_of(std::uint64_t n, std::string_view one, std::string_view many);

// "QRESYNC, 3 new (1.2 KB), 1 flag change, 0 expunged, 0.4 s[, new mailbox]...":
// a mailbox's line after "ACCOUNT: MAILBOX: " (-v, and the run log). Raw
// server text: the caller escapes it for its medium.
std::string mailbox_summary(const sync::MailboxReport& mailbox);
// "2 mailboxes, 4 new (3.9 KB), 0 flag changes, 0 expunged[; 1 failed]".
std::string account_summary(const sync::AccountReport& account);

// Human output. `out` gets the per-account summary (Normal) and per-mailbox
// lines (Verbose); `err` gets every failure, at any verbosity, so `-q` under
// cron mails only on trouble.
void print_summary(std::ostream& out, std::ostream& err, const std::vector<sync::AccountReport>& reports,
                   Verbosity verbosity, bool dry_run);

}  // namespace imapkeep::cli
