#include "store/posix_fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <imapkeep/store/catalog.hpp>

namespace imapkeep::store {

void throw_errno(int err, const std::string& what, const std::string& path) {
    throw StoreError(what + " " + path + ": " + std::strerror(err));
}

bool make_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0700) == 0) return true;
    const int err = errno;
    if (err == EEXIST && is_dir(path)) return false;
    throw_errno(err, "cannot create directory", path);
}

void make_dirs(const std::string& path) {
    if (path.empty() || is_dir(path)) return;
    auto slash = path.find_last_of('/');
    if (slash != std::string::npos && slash > 0) make_dirs(path.substr(0, slash));
    make_dir(path);
}

void fsync_dir(const std::string& path) {
    int fd;
    do {
        fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) throw_errno(errno, "cannot open directory", path);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) throw_errno(err, "cannot fsync directory", path);
}

bool fsync_file(const std::string& path) {
    int fd;
    do {
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
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

std::vector<std::string> list_dir(const std::string& path) {
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

bool is_dir(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

bool rename_path(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) == 0) return true;
    const int err = errno;
    if (err == ENOENT && !exists(from)) return false;
    throw_errno(err, "cannot rename to " + to + ":", from);
}

bool unlink_path(const std::string& path) {
    if (::unlink(path.c_str()) == 0) return true;
    if (errno == ENOENT) return false;
    throw_errno(errno, "cannot remove", path);
}

}  // namespace imapkeep::store
