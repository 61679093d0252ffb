// Internal helpers of the POSIX FileSystem (include/imapkeep/store/file_system.hpp).
#pragma once

#include <string>

namespace imapkeep::store {

[[noreturn]] void throw_errno(int err, const std::string& what, const std::string& path);

}  // namespace imapkeep::store
