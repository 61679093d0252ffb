// FileSystem on POSIX calls: one syscall per method (plus the retry on EINTR),
// so the store's hot path costs nothing for the indirection but a virtual call.
#include "store/posix_fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/file_system.hpp>

namespace imapkeep::store {

void throw_errno(int err, const std::string& what, const std::string& path) {
    throw StoreError(what + " " + path + ": " + std::strerror(err));
}

namespace {

int open_retrying(const std::string& path, int flags, mode_t mode = 0) {
    int fd;
    do {
        fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

// Linux 5.8 made syncfs(2) return write-back errors (errseq on the super
// block); before, it returned 0 after a failed write-back.
bool kernel_reports_syncfs_errors() {
#ifdef __linux__
    static const bool kReports = [] {
        utsname u{};
        if (::uname(&u) != 0) return false;
        int major = 0, minor = 0;
        if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
        return major > 5 || (major == 5 && minor >= 8);
    }();
    return kReports;
#else
    return false;
#endif
}

class PosixFileSystem final : public FileSystem {
  public:
    int create_exclusive(const std::string& path) override {
        const int fd = open_retrying(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0 && errno != EEXIST) throw_errno(errno, "cannot create", path);
        return fd;
    }

    void touch(const std::string& path) override {
        const int fd = open_retrying(path, O_WRONLY | O_CREAT, 0600);
        if (fd < 0) throw_errno(errno, "cannot create", path);
        ::close(fd);
    }

    void write(int fd, std::string_view bytes, const std::string& path) override {
        const char* data = bytes.data();
        std::size_t left = bytes.size();
        while (left > 0) {
            const ssize_t n = ::write(fd, data, left);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw_errno(errno, "cannot write", path);
            }
            data += n;
            left -= static_cast<std::size_t>(n);
        }
    }

    void fsync(int fd, const std::string& path) override {
        if (::fsync(fd) != 0) throw_errno(errno, "cannot fsync", path);
    }

    void close(int fd, const std::string& path) override {
        if (::close(fd) != 0 && errno != EINTR) throw_errno(errno, "cannot close", path);
    }

    void set_mtime(int fd, std::int64_t epoch, const std::string& path) override {
        const auto times = times_of(epoch);
        if (::futimens(fd, times.data()) != 0) throw_errno(errno, "cannot set the time of", path);
    }

    void set_mtime(const std::string& path, std::int64_t epoch) override {
        const auto times = times_of(epoch);
        if (::utimensat(AT_FDCWD, path.c_str(), times.data(), 0) != 0)
            throw_errno(errno, "cannot set the time of", path);
    }

    bool fsync_file(const std::string& path) override {
        const int fd = open_retrying(path, O_RDONLY);
        if (fd < 0) {
            if (errno == ENOENT) return false;
            throw_errno(errno, "cannot open", path);
        }
        // fsync through any descriptor flushes the inode's dirty pages, so the one
        // that wrote the file need not stay open (a batch could exhaust the fd limit).
        const int rc = ::fsync(fd);
        const int err = errno;
        ::close(fd);
        if (rc != 0) throw_errno(err, "cannot fsync", path);
        return true;
    }

    void fsync_dir(const std::string& path) override {
        const int fd = open_retrying(path, O_RDONLY | O_DIRECTORY);
        if (fd < 0) throw_errno(errno, "cannot open directory", path);
        const int rc = ::fsync(fd);
        const int err = errno;
        ::close(fd);
        if (rc != 0) throw_errno(err, "cannot fsync directory", path);
    }

    bool can_sync_file_system() override { return kernel_reports_syncfs_errors(); }

    int open_dir(const std::string& path) override {
        const int fd = open_retrying(path, O_RDONLY | O_DIRECTORY);
        if (fd < 0) throw_errno(errno, "cannot open directory", path);
        return fd;
    }

    void sync_file_system(int fd, const std::string& path) override {
#ifdef __linux__
        if (::syncfs(fd) != 0) throw_errno(errno, "cannot sync the file system of", path);
#else
        (void)fd;
        throw StoreError("cannot sync the file system of " + path + ": no syncfs here");
#endif
    }

    bool rename(const std::string& from, const std::string& to) override {
        if (::rename(from.c_str(), to.c_str()) == 0) return true;
        const int err = errno;
        if (err == ENOENT && !exists(from)) return false;
        throw_errno(err, "cannot rename to " + to + ":", from);
    }

    bool link(const std::string& from, const std::string& to) override {
        if (::link(from.c_str(), to.c_str()) == 0) return true;
        if (errno == EEXIST) return false;
        throw_errno(errno, "cannot link to " + to + ":", from);
    }

    bool unlink(const std::string& path) override {
        if (::unlink(path.c_str()) == 0) return true;
        if (errno == ENOENT) return false;
        throw_errno(errno, "cannot remove", path);
    }

    bool make_dir(const std::string& path) override {
        if (::mkdir(path.c_str(), 0700) == 0) return true;
        const int err = errno;
        if (err == EEXIST && is_dir(path)) return false;
        throw_errno(err, "cannot create directory", path);
    }

    void remove_dir(const std::string& path) override {
        if (::rmdir(path.c_str()) != 0) throw_errno(errno, "cannot remove", path);
    }

    std::vector<std::string> list_dir(const std::string& path) override {
        std::vector<std::string> names;
        DIR* dir = ::opendir(path.c_str());
        if (!dir) {
            if (errno == ENOENT) return names;
            throw_errno(errno, "cannot read directory", path);
        }
        while (const dirent* entry = ::readdir(dir)) {
            std::string name = entry->d_name;
            if (name != "." && name != "..") names.push_back(std::move(name));
        }
        ::closedir(dir);
        return names;
    }

    void scan_dir(const std::string& path,
                  const std::function<void(std::string_view name)>& visit) override {
        DIR* dir = ::opendir(path.c_str());
        if (!dir) {
            if (errno == ENOENT) return;
            throw_errno(errno, "cannot read directory", path);
        }
        try {
            while (const dirent* entry = ::readdir(dir)) {
                const std::string_view name = entry->d_name;
                if (name != "." && name != "..") visit(name);
            }
        } catch (...) {
            ::closedir(dir);
            throw;
        }
        ::closedir(dir);
    }

    bool is_dir(const std::string& path) override {
        struct stat st {};
        return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }

    bool exists(const std::string& path) override {
        struct stat st {};
        return ::lstat(path.c_str(), &st) == 0;
    }

    std::optional<DirVersion> dir_version(const std::string& path) override {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) {
            if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
            throw_errno(errno, "cannot stat", path);
        }
        if (!S_ISDIR(st.st_mode)) return std::nullopt;
        return DirVersion{
            static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
            static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec};
    }

  private:
    static std::array<timespec, 2> times_of(std::int64_t epoch) {
        const timespec t{static_cast<time_t>(epoch), 0};
        return {t, t};
    }
};

}  // namespace

std::shared_ptr<FileSystem> posix_file_system() {
    static const auto kPosix = std::make_shared<PosixFileSystem>();
    return kPosix;
}

void make_dirs(FileSystem& fs, const std::string& path) {
    if (path.empty() || fs.is_dir(path)) return;
    auto slash = path.find_last_of('/');
    if (slash != std::string::npos && slash > 0) make_dirs(fs, path.substr(0, slash));
    fs.make_dir(path);
}

}  // namespace imapkeep::store
