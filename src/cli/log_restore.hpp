// What a restore writes to the run log (log.hpp): per mailbox one line with
// the target account and the source mailbox, the run's notes (a renewed
// OAuth2 token) and what could not be kept as warnings, each failure as an
// error, and the totals.
#pragma once

#include <imapkeep/archive/restore.hpp>

#include "cli/log.hpp"

namespace imapkeep::cli {

void log_restore_report(Logger& log, const archive::RestoreReport& report, bool dry_run);

}  // namespace imapkeep::cli
