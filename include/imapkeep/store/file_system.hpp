// The file-system calls under the Maildir store, behind one interface (the idea
// of leveldb's Env): the POSIX implementation is the default, and tests put a
// fault layer in its place (tests/support/fault_file_system.hpp) to fail, delay
// or record any write, fsync, rename or unlink, and to interleave two workers.
//
// Every method handles EINTR and throws StoreError naming the path on any error
// it does not document as a return value. Paths are absolute. The store calls
// these from several threads at once: implementations must be thread-safe.
// Descriptors are plain POSIX file descriptors owned by the caller.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::store {

// What stat(2) says of a directory that changes with its entries: adding,
// removing or renaming one sets the change time (st_ctim), which no user
// call can set back.
struct DirVersion {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::int64_t changed_ns = 0;  // st_ctim, nanoseconds since the epoch
};

class FileSystem {
  public:
    virtual ~FileSystem() = default;

    // Creates a new file (0600, mail is private) open for writing. Returns -1,
    // creating nothing, when the name already exists.
    virtual int create_exclusive(const std::string& path) = 0;
    // Creates an empty file if none is there (a marker); an existing one is kept.
    virtual void touch(const std::string& path) = 0;
    // Writes all of `bytes` to `fd` (`path` names it in errors).
    virtual void write(int fd, std::string_view bytes, const std::string& path) = 0;
    virtual void fsync(int fd, const std::string& path) = 0;
    // close(2); reports a deferred write error (NFS) as StoreError. The
    // descriptor is released either way.
    virtual void close(int fd, const std::string& path) = 0;
    // Sets atime and mtime to `epoch` seconds.
    virtual void set_mtime(int fd, std::int64_t epoch, const std::string& path) = 0;
    virtual void set_mtime(const std::string& path, std::int64_t epoch) = 0;
    // Opens and fsyncs a file by name. Returns false if it does not exist.
    virtual bool fsync_file(const std::string& path) = 0;
    // fsync of a directory, so the names created, renamed or removed in it survive a crash.
    virtual void fsync_dir(const std::string& path) = 0;
    // Whether sync_file_system() is there and trustworthy: syncfs(2) reports
    // write-back errors only since Linux 5.8. Without it the store fsyncs file
    // by file.
    virtual bool can_sync_file_system() = 0;
    // Opens a directory for sync_file_system() (O_RDONLY | O_DIRECTORY);
    // release it with close().
    virtual int open_dir(const std::string& path) = 0;
    // syncfs(2) through `fd` (from open_dir): every file written on that file
    // system before the call is durable when it returns, data, metadata and
    // names alike: one journal commit instead of one per file. It reports the
    // write-back errors that happened since `fd` was opened, so open it before
    // the first write it must cover.
    virtual void sync_file_system(int fd, const std::string& path) = 0;
    // rename(2); returns false (and changes nothing) when `from` does not exist.
    virtual bool rename(const std::string& from, const std::string& to) = 0;
    // link(2): a second name for the file `from` (a hard link, same inode).
    // Returns false, changing nothing, when `to` already exists.
    virtual bool link(const std::string& from, const std::string& to) = 0;
    // unlink(2); returns false when the file did not exist.
    virtual bool unlink(const std::string& path) = 0;
    // mkdir(2) with 0700. Returns true if created, false if a directory was there.
    virtual bool make_dir(const std::string& path) = 0;
    // rmdir(2) of an empty directory.
    virtual void remove_dir(const std::string& path) = 0;
    // Entry names without "." and "..". A missing directory lists as empty.
    virtual std::vector<std::string> list_dir(const std::string& path) = 0;
    // The same entries, one at a time, without holding them all (a folder of
    // 200k messages lists as 20 MB of names). Defaults to list_dir().
    virtual void scan_dir(const std::string& path,
                          const std::function<void(std::string_view name)>& visit) {
        for (const auto& name : list_dir(path)) visit(name);
    }
    virtual bool is_dir(const std::string& path) = 0;
    // lstat(2) succeeds.
    virtual bool exists(const std::string& path) = 0;
    // stat(2) of a directory; nullopt when it is missing (or not a directory).
    virtual std::optional<DirVersion> dir_version(const std::string& path) = 0;
};

// The process-wide POSIX implementation (never null, stateless).
std::shared_ptr<FileSystem> posix_file_system();

// `path` and its missing parents, through `fs`.
void make_dirs(FileSystem& fs, const std::string& path);

}  // namespace imapkeep::store
