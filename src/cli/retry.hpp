// Running an account again when its run failed on the network (issue 9
// "Hostile and broken networks"). Backup and restore are both idempotent and
// resumable, so the whole account run is simply repeated: a backup fetches
// what is not durable yet, a restore (with resume_after_kill) lets the server
// settle and then finds by SHA-256 what the cut attempt already appended.
//
// Which failures are retried: a connection lost, refused or reset, EOF, a
// read or connect timeout, any I/O error (ConnectError::Kind::Network, an
// imap::Abort in the middle of a session). Never: authentication, TLS
// verification, SSH host keys, a server's NO, config or local storage errors.
// A retry cannot fix those, and hammering a server with a wrong password can
// lock the account.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <imapkeep/archive/restore.hpp>
#include <imapkeep/sync/backup.hpp>
#include <optional>
#include <ostream>
#include <string>

namespace imapkeep::cli {

struct RetryPolicy {
    int retries = 3;           // attempts after the first one
    double delay_seconds = 5;  // before the first retry; doubled for each next one
    // How long a restore target mailbox must stay unchanged before a resumed
    // restore compares it (archive::RestoreOptions::settle_quiet): APPENDs a
    // cut connection had sent may still land. Slow or replicated servers need more.
    double settle_seconds = 1;
    static constexpr double kMaxDelaySeconds = 600;
};

// The wait before retry number `retry` (1 = the first retry):
// delay_seconds * 2^(retry-1), capped at kMaxDelaySeconds.
std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int retry);

// Why this outcome deserves another attempt (a transient network failure, in
// one line), or nullopt: all done, or failed for a reason a retry will not fix.
std::optional<std::string> retry_cause(const sync::AccountReport& report);
std::optional<std::string> retry_cause(const archive::RestoreReport& report);

// One attempt: runs, and returns retry_cause() of its outcome. `attempt` counts from 1.
using Attempt = std::function<std::optional<std::string>(int attempt)>;
using Sleep = std::function<void(std::chrono::milliseconds)>;

struct RetryOutcome {
    int attempts = 0;
    std::optional<std::string> gave_up;  // the last cause, when retries ran out
};

// Runs `attempt` until it returns no cause or `policy.retries` retries are
// used, sleeping retry_delay() between attempts. Each retry is logged on `log`
// (may be null) in one line:
//   "imapkeep: backup work: attempt 1 of 4 failed (CAUSE); trying again in 5 s"
// Exceptions from `attempt` pass through (the test stop hooks).
RetryOutcome run_with_retries(const RetryPolicy& policy, const std::string& what,
                              const Attempt& attempt, std::ostream* log, const Sleep& sleep);

// run_with_retries as the commands run it: real sleeps, each retry logged on
// `err` unless `quiet`, and, when the retries ran out, always
//   "imapkeep: WHAT: gave up after N attempts: CAUSE".
RetryOutcome run_with_retries_logged(const RetryPolicy& policy, const std::string& what,
                                     const Attempt& attempt, std::ostream& err, bool quiet);

// A wait before a retry that a raised `stop` cuts short (within 100 ms) by
// throwing sync::StopRequested. A null `stop` never does.
Sleep stoppable_sleep(const std::atomic<bool>* stop);

// One account backed up, and run again while it fails on the network: what
// `imapkeep backup` and `imapkeep worker` do for each account. `backup` is
// one attempt (the engine on the caller's catalog and store); an exception
// from it, other than sync::StopRequested, is the account's failure
// (failed_account). A raised `stop` (may be null) throws StopRequested before
// an attempt and during the wait before a retry. Each retry is a line on `log`
// (may be null), as run_with_retries writes it. Earlier attempts' work is
// merged into the report (merge_earlier_attempt).
struct RetriedBackup {
    sync::AccountReport report;
    RetryOutcome outcome;
};
RetriedBackup backup_with_retries(const std::string& account,
                                  const std::function<sync::AccountReport()>& backup,
                                  const RetryPolicy& policy, const std::atomic<bool>* stop,
                                  std::ostream* log);

// "0.05 s", "5 s", "2.5 s": how the delay reads in a log line.
std::string seconds_text(std::chrono::milliseconds delay);

// Folds what an earlier attempt achieved into the later attempt's report, so
// that the run report counts the whole run: per mailbox, the counts add up;
// errors are the later attempt's where it reached the mailbox (the earlier
// error was recovered from), the earlier one's where it did not. An account
// that connected in any attempt is no longer "never connected".
void merge_earlier_attempt(sync::AccountReport& later, const sync::AccountReport& earlier);
void merge_earlier_attempt(archive::RestoreReport& later, const archive::RestoreReport& earlier);

}  // namespace imapkeep::cli
