// imapkeep doctor: the config, each account's connection and the store, one
// line per check (doctor.hpp). Exit 0 when nothing FAILed, 1 when something
// did, 2 for a usage error (an unknown --account).
#include <cstdlib>

#include "cli/commands.hpp"
#include "cli/doctor.hpp"
#include "cli/exit_codes.hpp"

namespace imapkeep::cli {

namespace {

void print(const std::vector<CheckResult>& checks, std::ostream& out) {
    for (const auto& c : checks) out << format_check(c) << "\n";
    out.flush();
}

bool password_env_set() {
    const char* v = std::getenv("IMAPKEEP_PASSWORD");
    return v && *v;
}

}  // namespace

int run_doctor(const std::string& config_path, const std::vector<std::string>& accounts, Io& io) {
    std::vector<CheckResult> all;
    auto emit = [&](std::vector<CheckResult> checks) {
        print(checks, io.out);
        all.insert(all.end(), checks.begin(), checks.end());
    };
    Config config;
    try {
        config = load_config(config_path);
    } catch (const ConfigError& e) {
        emit({fail("config", e.what(),
                   "fix the file (every key: imapkeep.toml(5), config.example.toml)")});
        return doctor_exit_code(all);
    }
    std::vector<const sync::AccountConfig*> selected;
    try {
        selected = select_accounts(config, accounts);
    } catch (const ConfigError& e) {
        io.err << "imapkeep doctor: " << e.what() << "\n";
        return kExitUsage;
    }
    emit({ok("config", config.file + " loads (" + std::to_string(config.accounts.size()) +
                           " account" + (config.accounts.size() == 1 ? "" : "s") + ")")});
    emit(check_config_files(config, password_env_set()));
    for (const auto* account : selected) {
        if (auto oauth2 = config.oauth2.find(account->name); oauth2 != config.oauth2.end())
            emit(check_oauth2(oauth2->second, https_poster(oauth2->second.ca_file)));
        emit(check_account(*account));
    }
    emit(check_store(config));
    const int code = doctor_exit_code(all);
    io.out << (code == kExitOk ? "doctor: no problem found"
                               : "doctor: some checks FAILed (see the hints)")
           << "\n";
    return code;
}

}  // namespace imapkeep::cli
