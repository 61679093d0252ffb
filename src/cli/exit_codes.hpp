// How outcomes become exit codes (issue 3). Only the cli layer exits; the
// layers below record graded failures in their reports.
//
//   0   all good
//   1   some mailboxes failed (each listed, the others done)
//   2   usage or config error
//   3   connection, TLS, host key or authentication failure
//   75  temporary failure (EX_TEMPFAIL) or lock busy
#pragma once

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

// The worst outcome across accounts, in this order: a permanent connection or
// auth failure (3: a human must act), then a transient one (75: cron will try
// again), then failed mailboxes or an account-level error after connecting (1).
int exit_code_for(const std::vector<sync::AccountReport>& reports);

// The more serious of two exit codes, in the order exit_code_for uses:
// 3 > 75 > 1 > 0 (2 outranks everything: nothing ran).
int worse_exit_code(int a, int b);

// The status stored with the run in the catalog: "ok" | "partial" | "failed".
std::string run_status_for(int exit_code);

}  // namespace imapkeep::cli
