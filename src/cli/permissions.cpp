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

// A token file that belongs to another user, or nullopt.
std::optional<std::string> foreign_owner(const SecretFile& f) {
    struct stat st {};
    if (!f.token || ::stat(f.path.c_str(), &st) != 0 || st.st_uid == ::geteuid()) return std::nullopt;
    return f.path + " holds " + f.holds + " and belongs to uid " + std::to_string(st.st_uid) + ", not to uid " +
           std::to_string(::geteuid()) + " running imapkeep";
}

void add_exposure(SecretExposure& out, const SecretFile& f, const std::string& line, const std::string& fix) {
    if (f.readable_ok)
        out.warnings.push_back(line + " (allow_readable_secrets = true)");
    else
        out.errors.push_back(line + ": " + fix +
                             " (or set allow_readable_secrets = true in that account if this is on purpose)");
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
        if (readable_by_others(f.path))
            add_exposure(out, f, f.path + " holds " + f.holds + " and other users can read it", "chmod 600 " + f.path);
        if (auto line = foreign_owner(f))
            add_exposure(out, f, *line, "chown " + std::to_string(::geteuid()) + " " + f.path);
    }
    return out;
}

std::vector<std::string> secret_file_problems(const std::vector<SecretFile>& files, const std::string& config_file) {
    std::vector<std::string> problems;
    for (const auto& f : files) {
        if (f.path == config_file || f.token) continue;  // read with the config; written by `imapkeep auth`
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
