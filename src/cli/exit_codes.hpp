// How outcomes become exit codes (issue 3). Only the cli layer exits; the
// layers below record graded failures in their reports.
//
//   0   all good
//   1   some mailboxes failed (each listed, the others done), also when the
//       connection kept dropping after the account had connected
//   2   usage or config error
//   3   the account never got a working connection: TLS, host key or
//       authentication failure, or the network (after the retries, retry.hpp)
//   75  temporary failure (EX_TEMPFAIL): the daily download budget (or the
//       server's daily limit) left messages for the next run ("budget
//       reached, N messages left, resumes next run"), or the target's daily
//       upload budget left messages for a later restore; or the store is locked
//       by another run, cannot be opened, or the run cannot be recorded
//   130, 143  backup stopped by SIGINT or SIGTERM at a durable boundary
//       (signals.hpp: 128 + the signal); the next run resumes
#pragma once

#include <imapkeep/archive/restore.hpp>
#include <imapkeep/sync/backup.hpp>

#include <string>
#include <vector>

namespace imapkeep::cli {

enum ExitCode : int {
    kExitOk = 0,
    kExitPartial = 1,
    kExitUsage = 2,
    kExitConnect = 3,
    kExitTempFail = 75,
};

// The worst outcome across accounts, once retries are done: an account that
// never connected (3), then one the budget stopped with messages left (75:
// never 0, the run is not done), then failed mailboxes or an account-level
// error after connecting (1). A network failure left after the retries is reported like
// any other, not deferred to cron with 75.
int exit_code_for(const std::vector<sync::AccountReport>& reports);

// The same for a restore: 3 when the target was never reached, 75 when the
// daily upload budget left messages for a later run, 1 when the run failed
// partway (a message, a mailbox, or the connection after the retries).
int exit_code_for(const archive::RestoreReport& report);

// The more serious of two exit codes (a local temporary failure ranks above a
// partial run):
// 3 > 75 > 1 > 0 (2 outranks everything: nothing ran).
int worse_exit_code(int a, int b);

// The status stored with the run in the catalog: "ok" | "partial" | "failed".
std::string run_status_for(int exit_code);

}  // namespace imapkeep::cli
