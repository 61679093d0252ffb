// The command line (CLI11): parses argv, loads the config, prints its
// warnings, and runs one subcommand. Returns the process exit code; a CLI11
// parse error or a config error is 2 (exit_codes.hpp). --help and --version
// print to io.out and return 0.
#pragma once

#include "cli/commands.hpp"

namespace imapkeep::cli {

int run_app(int argc, const char* const* argv, const Services& services, Io& io);

}  // namespace imapkeep::cli
