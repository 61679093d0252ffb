// Malformed server data the client skipped (imap::ClientOptions::warning),
// shown to the user once per account and kind for the whole run, however many
// connections meet it: a server that repeats one mistake fills no log.
#pragma once

#include <ostream>

#include "cli/config.hpp"

namespace imapkeep::cli {

// Sets every account's ClientOptions::warning to print
// "imapkeep: ACCOUNT: warning: TEXT" on `err` (server text made printable).
// `err` must outlive the runs.
void report_skipped_server_data(Config& config, std::ostream& err);

}  // namespace imapkeep::cli
