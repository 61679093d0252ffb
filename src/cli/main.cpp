// imapkeep: the backup tool's entry point. Wires the real engine into the
// command line; everything else lives in imapkeep_cli_lib.
#include "cli/app.hpp"

#include <imapkeep/sync/backup.hpp>

#include <csignal>
#include <iostream>
#include <unistd.h>

int main(int argc, char** argv) {
    // A closed pipe (imapkeep status | head) is an I/O error, not a death.
    std::signal(SIGPIPE, SIG_IGN);
    imapkeep::cli::Services services{imapkeep::sync::backup_account};
    imapkeep::cli::Io io{std::cout, std::cerr, ::isatty(STDERR_FILENO) == 1, true};
    return imapkeep::cli::run_app(argc, argv, services, io);
}
