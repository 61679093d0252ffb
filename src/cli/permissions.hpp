// Warns when the config (which may hold a password) or the store (which holds
// mail) can be read by other users (issue 3). Only a warning: the user may
// share them on purpose, but should know.
#pragma once

#include <optional>
#include <string>

namespace imapkeep::cli {

// One line naming every exposed path and how to fix it, or nullopt. Paths that
// do not exist (yet) are not exposed.
std::optional<std::string> exposure_warning(const std::string& config_file, const std::string& store_path);

}  // namespace imapkeep::cli
