// `imapkeep init` (issue 11): asks for (or takes as flags) one account, checks
// it against the server, writes a commented config and offers a timer.
//
// Contract:
// - A password is never written to the config: it names a password_command or
//   a password_file. The config is created mode 0600 (temp file + rename), its
//   folder 0700 when created, and is refused over an existing file (exit 2)
//   unless --force. Before anything is written, the text is parsed with the
//   real loader (parse_config), so a value the loader refuses is a usage error.
// - The connection is the one backup makes (the parsed account's
//   ConnectOptions). The server is only read: LOGIN, CAPABILITY, LIST and
//   STATUS; no message is downloaded.
// - Without a terminal, a missing value is a usage error naming its flag (2),
//   and a failed connection exits 3 without writing the config. On a terminal
//   the user is asked whether to write it anyway.
// - A failing systemctl never fails init: the crontab line is printed instead.
#pragma once

#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"

namespace imapkeep::cli {

// What the account needs; empty = not given (asked on a terminal).
struct InitSettings {
    std::string host;
    std::optional<int> port;  // default 993 (tls) or 143 (starttls, none)
    std::string security;     // "tls" | "starttls" | "none" (loopback only); default "tls"
    std::string user;
    std::string password_command;
    std::string password_file;
    std::string ca_file;
    std::string store;  // default $XDG_DATA_HOME/imapkeep, else ~/.local/share/imapkeep
    std::string name;   // the account's name; default from the user name
};

// Runs a command (argv), returns its exit status; systemctl in production.
using CommandRunner = std::function<int(const std::vector<std::string>&)>;

struct InitArgs {
    InitSettings settings;
    std::string output;  // default default_config_path()
    bool force = false;
    std::optional<bool> timer;   // --timer / --no-timer; unset: ask (terminal) or print the command
    bool interactive = false;    // stdin and stdout are a terminal
    std::istream* in = nullptr;  // the answers, when interactive
    CommandRunner run_command;   // unset: fork/exec and wait
};

int run_init(const InitArgs& args, Io& io);

// --- the steps, for tests -------------------------------------------------

// The config text: every key written is explained in a comment.
std::string render_init_config(const InitSettings& settings);

// The timer instance for a config at $XDG_CONFIG_HOME/imapkeep/NAME.toml
// (~/.config when unset): NAME. nullopt elsewhere (the user unit reads only
// that folder).
std::optional<std::string> timer_instance(const std::string& config_path);

// "17 * * * *  imapkeep --config 'PATH' backup -q"
std::string cron_line(const std::string& config_path);

// A string as a TOML basic string, quotes included.
std::string toml_string(const std::string& value);

}  // namespace imapkeep::cli
