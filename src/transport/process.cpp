#include <imapkeep/transport/process.hpp>

#include "fd_wait.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace imapkeep::transport {
namespace {

using detail::errno_message;
using Kind = TransportError::Kind;

// How long close() lets the child exit on its own after its stdin closes,
// and then after SIGTERM, before SIGKILL.
constexpr auto kExitGrace = std::chrono::milliseconds(500);

// write() on a pipe whose reader is gone raises SIGPIPE, which would kill the
// whole program. MSG_NOSIGNAL exists only for sockets, so the signal is
// blocked in this thread around the write and a SIGPIPE it raised is consumed
// before unblocking (the usual technique for libraries that cannot touch the
// process-wide disposition).
class SigpipeGuard {
public:
    SigpipeGuard() {
        sigemptyset(&m_pipe);
        sigaddset(&m_pipe, SIGPIPE);
        sigset_t pending;
        sigpending(&pending);
        m_was_pending = sigismember(&pending, SIGPIPE) == 1;
        m_blocked = pthread_sigmask(SIG_BLOCK, &m_pipe, &m_old) == 0;
    }
    ~SigpipeGuard() {
        if (!m_blocked) return;
        if (m_epipe && !m_was_pending) {
            timespec zero{0, 0};
            while (sigtimedwait(&m_pipe, nullptr, &zero) == -1 && errno == EINTR) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
    }
    SigpipeGuard(const SigpipeGuard&) = delete;
    SigpipeGuard& operator=(const SigpipeGuard&) = delete;
    void saw_epipe() { m_epipe = true; }

private:
    sigset_t m_pipe{};
    sigset_t m_old{};
    bool m_blocked = false;
    bool m_was_pending = false;
    bool m_epipe = false;
};

class ProcessStream final : public Stream {
public:
    ProcessStream(pid_t pid, int to_child, int from_child, std::string command,
                  std::optional<std::chrono::milliseconds> read_timeout)
        : m_pid(pid), m_to_child(to_child), m_from_child(from_child),
          m_description("process: " + std::move(command)), m_read_timeout(read_timeout) {}
    ~ProcessStream() override { close(); }
    ProcessStream(const ProcessStream&) = delete;
    ProcessStream& operator=(const ProcessStream&) = delete;

    std::size_t read_some(std::span<char> buffer) override {
        check_open();
        if (buffer.empty()) return 0;
        if (!detail::wait_fd(m_from_child, POLLIN, m_read_timeout)) {
            throw TransportError(Kind::Timeout, "read from " + m_description + " timed out");
        }
        while (true) {
            ssize_t n = ::read(m_from_child, buffer.data(), buffer.size());
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                if (!detail::wait_fd(m_from_child, POLLIN, m_read_timeout)) {
                    throw TransportError(Kind::Timeout, "read from " + m_description + " timed out");
                }
                continue;
            }
            throw TransportError(Kind::Io, errno_message("read from " + m_description, errno));
        }
    }

    void write_all(std::string_view data) override {
        check_open();
        SigpipeGuard guard;
        while (!data.empty()) {
            ssize_t n = ::write(m_to_child, data.data(), data.size());
            if (n >= 0) {
                data.remove_prefix(static_cast<std::size_t>(n));
                continue;
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                // Same policy as TCP: a child that stops reading for longer
                // than the read timeout is as stuck as one that stops writing.
                if (!detail::wait_fd(m_to_child, POLLOUT, m_read_timeout)) {
                    throw TransportError(Kind::Timeout, "write to " + m_description + " timed out");
                }
                continue;
            }
            if (errno == EPIPE) guard.saw_epipe();
            throw TransportError(Kind::Io, errno_message("write to " + m_description, errno));
        }
    }

    void close() noexcept override {
        if (m_pid < 0) return;
        // Closing stdin is the polite request to stop (an IMAP server exits
        // on EOF); closing stdout makes a child that keeps writing get EPIPE.
        ::close(m_to_child);
        ::close(m_from_child);
        m_to_child = m_from_child = -1;
        if (!wait_for_exit(kExitGrace)) {
            ::kill(m_pid, SIGTERM);
            if (!wait_for_exit(kExitGrace)) {
                ::kill(m_pid, SIGKILL);
                int status = 0;
                while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
                }
            }
        }
        m_pid = -1;
    }

    void set_read_timeout(std::optional<std::chrono::milliseconds> timeout) override { m_read_timeout = timeout; }
    int native_handle() const override { return m_from_child; }
    std::string describe() const override { return m_description; }

private:
    bool wait_for_exit(std::chrono::milliseconds grace) {
        auto deadline = detail::Clock::now() + grace;
        auto step = std::chrono::milliseconds(1);
        while (true) {
            int status = 0;
            pid_t rc = ::waitpid(m_pid, &status, WNOHANG);
            if (rc == m_pid || (rc < 0 && errno == ECHILD)) return true;
            if (detail::Clock::now() >= deadline) return false;
            std::this_thread::sleep_for(step);
            step = std::min(step * 2, std::chrono::milliseconds(50));
        }
    }

    void check_open() const {
        if (m_pid < 0) throw TransportError(Kind::Closed, m_description + " is closed");
    }

    pid_t m_pid;
    int m_to_child;
    int m_from_child;
    std::string m_description;
    std::optional<std::chrono::milliseconds> m_read_timeout;
};

}  // namespace

StreamPtr spawn_process(const std::string& command, std::optional<std::chrono::milliseconds> read_timeout) {
    int in_pipe[2];   // parent writes [1], child's stdin is [0]
    int out_pipe[2];  // child's stdout is [1], parent reads [0]
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) {
        throw TransportError(Kind::Io, errno_message("cannot start " + command + ": pipe", errno));
    }
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
        int err = errno;
        ::close(in_pipe[0]);
        ::close(in_pipe[1]);
        throw TransportError(Kind::Io, errno_message("cannot start " + command + ": pipe", err));
    }
    auto close_all = [&] {
        for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]}) ::close(fd);
    };

    // posix_spawn instead of fork: safe in a multi-threaded process and cheap.
    // dup2 clears O_CLOEXEC on the child's copies; every other pipe end is
    // close-on-exec, so the child holds only its stdin and stdout.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    // The child starts with default SIGPIPE handling and an empty signal mask
    // whatever this process did with them.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    sigset_t empty;
    sigemptyset(&empty);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    std::string arg0 = "sh", arg1 = "-c", arg2 = command;
    char* argv[] = {arg0.data(), arg1.data(), arg2.data(), nullptr};
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        close_all();
        throw TransportError(Kind::Io, errno_message("cannot start " + command, rc));
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    // Non-blocking writes let write_all time out instead of hanging on a
    // child that never reads.
    ::fcntl(in_pipe[1], F_SETFL, ::fcntl(in_pipe[1], F_GETFL) | O_NONBLOCK);
    return std::make_unique<ProcessStream>(pid, in_pipe[1], out_pipe[0], command, read_timeout);
}

}  // namespace imapkeep::transport
