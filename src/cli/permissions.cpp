#include "cli/permissions.hpp"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

namespace imapkeep::cli {

namespace {

bool readable_by_others(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return false;
    return (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
}

}  // namespace

std::optional<std::string> exposure_warning(const std::string& config_file, const std::string& store_path) {
    std::vector<std::string> fixes;
    if (!config_file.empty() && readable_by_others(config_file)) fixes.push_back("chmod 600 " + config_file);
    if (!store_path.empty() && readable_by_others(store_path)) fixes.push_back("chmod 700 " + store_path);
    if (fixes.empty()) return std::nullopt;
    std::string line = "warning: readable by other users (";
    for (size_t i = 0; i < fixes.size(); ++i) line += (i ? "; " : "") + fixes[i];
    return line + ")";
}

SecretExposure secret_exposure(const std::vector<SecretFile>& files) {
    SecretExposure out;
    for (const auto& f : files) {
        if (!readable_by_others(f.path)) continue;
        std::string line = f.path + " holds " + f.holds + " and other users can read it";
        if (f.readable_ok) {
            out.warnings.push_back(line + " (allow_readable_secrets = true)");
        } else {
            out.errors.push_back(line + ": chmod 600 " + f.path +
                                 " (or set allow_readable_secrets = true in that account if this is on purpose)");
        }
    }
    return out;
}

std::vector<std::string> secret_file_problems(const std::vector<SecretFile>& files, const std::string& config_file) {
    std::vector<std::string> problems;
    for (const auto& f : files) {
        if (f.path == config_file) continue;  // an inline password: the config was read
        const std::string what = "password_file " + f.path + " (" + f.holds + "): ";
        struct stat st {};
        if (::stat(f.path.c_str(), &st) != 0) problems.push_back(what + std::strerror(errno));
        else if (!S_ISREG(st.st_mode)) problems.push_back(what + "not a regular file");
        else if (st.st_size == 0) problems.push_back(what + "the file is empty");
        else if (::access(f.path.c_str(), R_OK) != 0) problems.push_back(what + std::strerror(errno));
    }
    return problems;
}

}  // namespace imapkeep::cli
