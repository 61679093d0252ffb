// doctor's config checks: who can read the config and the password files, and
// whether every account can get a password (the rules of permissions.hpp and
// app.cpp's check before a backup, as check lines).
#include "cli/doctor.hpp"
#include "cli/permissions.hpp"

namespace imapkeep::cli {

namespace {

CheckResult config_readability(const Config& config) {
    if (auto exposed = exposure_warning(config.file, ""))
        return warn("config permissions", config.file + " is readable by other users",
                    "chmod 600 " + config.file);
    return ok("config permissions", config.file + " is private");
}

// A file holding a password that others can read: backup refuses it unless the
// account allows it on purpose.
std::vector<CheckResult> secret_readability(const Config& config) {
    std::vector<CheckResult> out;
    SecretExposure exposure = secret_exposure(config.secret_files);
    for (const auto& e : exposure.errors)
        out.push_back(
            fail("secret permissions", e, "backup refuses to run (exit 2) until this is fixed"));
    for (const auto& w : exposure.warnings)
        out.push_back(
            warn("secret permissions", w, "chmod 600 it unless sharing it is on purpose"));
    return out;
}

std::vector<CheckResult> password_sources(const Config& config, bool have_password_env) {
    std::vector<CheckResult> out;
    for (const auto& p : secret_file_problems(config.secret_files, config.file))
        out.push_back(
            fail("password file", p, "create it with the password on its first line, mode 600"));
    if (!have_password_env)
        for (const auto& p : config.accounts_without_password)
            out.push_back(
                fail("password source", p,
                     "set password_command or password_file in the account, or IMAPKEEP_PASSWORD"));
    return out;
}

}  // namespace

std::vector<CheckResult> check_config_files(const Config& config, bool have_password_env) {
    std::vector<CheckResult> out{config_readability(config)};
    for (auto& c : secret_readability(config)) out.push_back(std::move(c));
    for (auto& c : password_sources(config, have_password_env)) out.push_back(std::move(c));
    for (const auto& w : config.warnings) out.push_back(warn("config", w, "see imapkeep.toml(5)"));
    return out;
}

}  // namespace imapkeep::cli
