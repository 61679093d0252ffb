// Who else can read what imapkeep keeps. A file that holds a password and is
// readable by other users is refused (exit 2) unless the account says
// allow_readable_secrets = true; then it is a warning on every run. The store
// (mail) and a config without secrets only get a warning: the user may share
// them on purpose, but should know.
#pragma once

#include "cli/config.hpp"

#include <optional>
#include <string>
#include <vector>

namespace imapkeep::cli {

// One line naming every exposed path and how to fix it, or nullopt. Paths that
// do not exist (yet) are not exposed.
std::optional<std::string> exposure_warning(const std::string& config_file, const std::string& store_path);

struct SecretExposure {
    std::vector<std::string> errors;    // one line each: refuse to run
    std::vector<std::string> warnings;  // allowed by allow_readable_secrets
};
// Checks every secret file; a file that does not exist is not exposed. An
// OAuth2 token file (SecretFile::token) must also belong to the user running
// imapkeep: another user could swap the tokens (same refusal, same override).
SecretExposure secret_exposure(const std::vector<SecretFile>& files);

// A password_file that is missing, unreadable, empty or not a regular file,
// one line each ("password_file P (the password of account a): No such file
// or directory"). Checked before anything runs, so it is a config error (exit
// 2), not an authentication failure. The file's content is not read here.
// Token files are not checked: `imapkeep auth` writes them (doctor says
// when the refresh token is missing).
std::vector<std::string> secret_file_problems(const std::vector<SecretFile>& files, const std::string& config_file);

}  // namespace imapkeep::cli
