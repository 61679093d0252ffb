// File helpers for crash-safe writes: write to a temp name, fsync, rename,
// fsync the directory.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace imapkeep::util {
// Writes `data` to `path` atomically (tmp + fsync + rename + dir fsync). The
// file is created mode 0600 (it may hold mail). Throws std::system_error.
void write_file_atomic(const std::string& path, std::string_view data);
void fsync_path(const std::string& path);        // file or directory
void fsync_parent_dir(const std::string& path);
std::string read_file(const std::string& path);  // throws std::system_error
// Reads `path` from its start to EOF, handing `each` pieces of at most `chunk`
// bytes, so a file of any size is read in bounded memory. Throws
// std::system_error ("cannot open|read PATH: reason"), and whatever `each` throws.
void for_each_chunk(const std::string& path, std::size_t chunk,
                    const std::function<void(std::string_view)>& each);
}  // namespace imapkeep::util
