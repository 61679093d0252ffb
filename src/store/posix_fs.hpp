// The few POSIX file-system calls the Maildir store needs, with EINTR handled
// and errors turned into StoreError naming the path.
#pragma once

#include <string>
#include <vector>

namespace imapkeep::store {

[[noreturn]] void throw_errno(int err, const std::string& what, const std::string& path);

// Creates one directory (0700: mail is private). Returns true if it was created,
// false if a directory was already there.
bool make_dir(const std::string& path);
// Creates `path` and its missing parents.
void make_dirs(const std::string& path);
// fsync of a directory, so the names created, renamed or removed in it survive a crash.
void fsync_dir(const std::string& path);
// Opens and fsyncs a file by name. Returns false if it does not exist.
bool fsync_file(const std::string& path);
// Entry names of a directory, without "." and "..". Missing directory -> empty.
std::vector<std::string> list_dir(const std::string& path);
bool is_dir(const std::string& path);
bool exists(const std::string& path);
// rename(2); returns false (and changes nothing) when `from` does not exist.
bool rename_path(const std::string& from, const std::string& to);
// unlink(2); returns false when the file did not exist.
bool unlink_path(const std::string& path);

}  // namespace imapkeep::store
