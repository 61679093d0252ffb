// imapkeep init: gather the account (cmd_init_ask.cpp), check it against the
// server (cmd_init_server.cpp), write the config (cmd_init_config.cpp), offer
// the timer (cmd_init_timer.cpp). The contract is in cmd_init.hpp.
#include "cli/cmd_init.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <imapkeep/util/files.hpp>

#include "cli/cmd_init_ask.hpp"
#include "cli/cmd_init_server.hpp"
#include "cli/exit_codes.hpp"
#include "cli/permissions.hpp"

namespace imapkeep::cli {

namespace {

int run_and_wait(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return 127;
    if (pid == 0) {
        ::execvp(args[0], args.data());
        _exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return 127;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The folders that do not exist yet are made 0700: the config names where
// the passwords come from.
void create_private_parents(const std::filesystem::path& file) {
    std::vector<std::filesystem::path> missing;
    for (auto p = file.parent_path(); !p.empty() && !std::filesystem::exists(p);
         p = p.parent_path()) {
        missing.push_back(p);
        if (p == p.parent_path()) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST)
            throw std::system_error(errno, std::generic_category(),
                                    "cannot create " + it->string());
    }
}

// Connects as backup would and shows what is there. false: the reason went
// to io.err.
bool show_server(const sync::AccountConfig& account, Io& io) {
    try {
        auto client = imap::connect_and_login(account.connect);
        io.out << "Connected to " << account.connect.host << " as " << account.connect.user
               << ".\n";
        print_survey(survey_server(*client), io.out);
        client->logout();
        return true;
    } catch (const std::exception& e) {
        io.err << "imapkeep init: cannot connect: " << e.what() << "\n";
        return false;
    }
}

std::string join_words(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
}

void offer_timer(const InitArgs& args, const std::string& config_path, Asker& ask, Io& io) {
    if (args.timer == false) return;
    auto instance = timer_instance(config_path);
    if (!instance) {
        io.out << "The systemd user timer reads only $XDG_CONFIG_HOME/imapkeep/NAME.toml; to back "
                  "up every hour "
                  "from cron instead (crontab -e):\n  "
               << cron_line(config_path) << "\n";
        return;
    }
    const std::string unit = "imapkeep-backup@" + *instance + ".timer";
    const std::vector<std::string> command{"systemctl", "--user", "enable", "--now", unit};
    const bool install =
        args.timer
            ? *args.timer
            : ask.interactive() &&
                  ask.yes_no("Back up every hour with the systemd user timer " + unit + "?", true);
    if (!install) {
        io.out << "To back up every hour: " << join_words(command)
               << "\n  or from cron (crontab -e): " << cron_line(config_path) << "\n";
        return;
    }
    const int rc = (args.run_command ? args.run_command : CommandRunner(run_and_wait))(command);
    if (rc == 0) {
        io.out << "Enabled " << unit << " (systemctl --user list-timers shows its next run).\n";
        return;
    }
    // "enable" may work where "--now" cannot reach a user manager: say how
    // to undo it, so that cron and the timer do not both run.
    io.out << "systemctl failed (exit " << rc
           << "); to back up every hour from cron instead (crontab -e):\n  "
           << cron_line(config_path) << "\n  (and systemctl --user disable " << unit
           << " if it got enabled)\n";
}

// The text as the loader reads it: what init writes must load.
sync::AccountConfig checked_account(const std::string& text, const std::string& path) {
    Config config = parse_config(text, path);
    auto problems = secret_file_problems(config.secret_files, path);
    if (!problems.empty()) throw InitUsage(problems.front());
    return config.accounts.at(0);
}

}  // namespace

int run_init(const InitArgs& args, Io& io) {
    const std::string path =
        std::filesystem::absolute(args.output.empty() ? default_config_path() : args.output)
            .lexically_normal()
            .string();
    if (std::filesystem::exists(path) && !args.force) {
        io.err << "imapkeep init: " << path
               << " exists; not overwriting it (--force replaces it)\n";
        return kExitUsage;
    }
    Asker ask(args.interactive, args.in, io.out);
    std::string text;
    sync::AccountConfig account;
    try {
        text = render_init_config(gather_settings(args.settings, ask));
        account = checked_account(text, path);
    } catch (const InitUsage& e) {
        io.err << "imapkeep init: " << e.what() << " (see imapkeep init --help)\n";
        return kExitUsage;
    } catch (const ConfigError& e) {
        io.err << "imapkeep init: " << e.what() << "\n";
        return kExitUsage;
    }
    if (!show_server(account, io)) {
        if (!ask.yes_no("Write the config anyway?", false)) return kExitConnect;
    }
    try {
        create_private_parents(path);
        util::write_file_atomic(path, text);
    } catch (const std::exception& e) {
        io.err << "imapkeep init: " << e.what() << "\n";
        return kExitUsage;
    }
    io.out << "Wrote " << path << " (mode 0600). Check everything with: imapkeep doctor --config "
           << path << "\n";
    offer_timer(args, path, ask, io);
    io.out << "First backup: imapkeep --config " << path << " backup\n";
    return kExitOk;
}

}  // namespace imapkeep::cli
