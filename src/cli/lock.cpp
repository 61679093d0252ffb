#include "cli/lock.hpp"

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace imapkeep::cli {

namespace {

std::string message_for(const std::string& store, pid_t holder) {
    return "another imapkeep run holds the lock on " + store + " (pid " +
           (holder > 0 ? std::to_string(holder) : std::string("unknown")) + ")";
}

pid_t read_pid(int fd) {
    char buffer[32] = {};
    ssize_t n = pread(fd, buffer, sizeof buffer - 1, 0);
    if (n <= 0) return 0;
    try {
        long pid = std::stol(std::string(buffer, static_cast<size_t>(n)));
        return pid > 0 ? static_cast<pid_t>(pid) : 0;
    } catch (const std::exception&) {
        return 0;
    }
}

}  // namespace

LockBusy::LockBusy(const std::string& store, pid_t holder)
    : std::runtime_error(message_for(store, holder)), m_holder(holder) {}

StoreLock::StoreLock(const std::string& store_path) {
    std::error_code ec;
    if (!std::filesystem::exists(store_path, ec)) {
        std::filesystem::create_directories(store_path, ec);
        if (ec) throw std::system_error(ec, "cannot create the store " + store_path);
        ::chmod(store_path.c_str(), 0700);
    }
    const std::string path = store_path + "/.lock";
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m_fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path);
    if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        pid_t holder = read_pid(m_fd);
        ::close(m_fd);
        m_fd = -1;
        if (e == EWOULDBLOCK) throw LockBusy(store_path, holder);
        throw std::system_error(e, std::generic_category(), "cannot lock " + path);
    }
    // The pid is only for the message a second run prints; the lock itself is
    // the flock, so a stale pid in the file is harmless.
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(m_fd, 0) == 0) {
        ssize_t ignored = ::pwrite(m_fd, pid.data(), pid.size(), 0);
        (void)ignored;
    }
}

std::optional<pid_t> lock_holder(const std::string& store_path) {
    const std::string path = store_path + "/.lock";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::optional<pid_t> holder;
    if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) holder = read_pid(fd);
    }
    ::close(fd);  // releases the shared lock, if it was ours
    return holder;
}

StoreLock::~StoreLock() {
    if (m_fd >= 0) ::close(m_fd);  // releases the flock
}

}  // namespace imapkeep::cli
