// Scheduling what init wrote: the systemd user timer the package ships
// (imapkeep-backup@NAME.timer runs `imapkeep --config
// $XDG_CONFIG_HOME/imapkeep/NAME.toml backup`), or a crontab line.
#include <cstdlib>
#include <filesystem>

#include "cli/cmd_init.hpp"

namespace imapkeep::cli {

namespace {

// %E in a user unit: $XDG_CONFIG_HOME, else ~/.config.
std::filesystem::path user_config_home() {
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg && xdg[0] == '/') return xdg;
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home ? home : "") / ".config";
}

std::string shell_quote(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace

std::optional<std::string> timer_instance(const std::string& config_path) {
    std::error_code ec;
    const auto file = std::filesystem::weakly_canonical(config_path, ec);
    const auto folder = std::filesystem::weakly_canonical(user_config_home() / "imapkeep", ec);
    if (ec || file.parent_path() != folder || file.extension() != ".toml") return std::nullopt;
    std::string name = file.stem().string();
    // An instance name is one word in the unit's name: no '/' can occur in a
    // stem, but '\' and spaces would need systemd-escape.
    if (name.empty() || name.find_first_of(" \\") != std::string::npos) return std::nullopt;
    return name;
}

std::string cron_line(const std::string& config_path) {
    return "17 * * * *  imapkeep --config " + shell_quote(config_path) + " backup -q";
}

}  // namespace imapkeep::cli
