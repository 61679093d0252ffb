// File helpers for crash-safe writes: write to a temp name, fsync, rename,
// fsync the directory.
#pragma once
#include <string>
#include <string_view>

namespace imapkeep::util {
// Writes `data` to `path` atomically (tmp + fsync + rename + dir fsync). The
// file is created mode 0600 (it may hold mail). Throws std::system_error.
void write_file_atomic(const std::string& path, std::string_view data);
void fsync_path(const std::string& path);        // file or directory
void fsync_parent_dir(const std::string& path);
std::string read_file(const std::string& path);  // throws std::system_error
}  // namespace imapkeep::util
