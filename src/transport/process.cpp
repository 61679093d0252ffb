#include <imapkeep/transport/process.hpp>

#include "child_process.hpp"
#include "fd_wait.hpp"

#include <algorithm>
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
namespace detail {
namespace {

using Kind = TransportError::Kind;

// How long close() lets the child exit on its own after its stdin closes,
// and then after SIGTERM, before SIGKILL.
constexpr auto kExitGrace = std::chrono::milliseconds(500);
constexpr int kPipeSize = 1 << 20;

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

std::optional<Clock::time_point> deadline_after(std::optional<std::chrono::milliseconds> timeout) {
    if (!timeout) return std::nullopt;
    return Clock::now() + *timeout;
}

int poll_ms(std::optional<Clock::time_point> deadline) {
    if (!deadline) return -1;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

std::string_view variable_name(std::string_view entry) { return entry.substr(0, entry.find('=')); }

}  // namespace

std::vector<std::string> child_environment(const char* const* inherited,
                                           const std::vector<std::string>& added) {
    std::vector<std::string> out;
    for (const char* const* entry = inherited; entry && *entry; ++entry) {
        const std::string_view name = variable_name(*entry);
        const bool replaced = std::any_of(added.begin(), added.end(),
                                          [&](const std::string& a) { return variable_name(a) == name; });
        if (!replaced) out.emplace_back(*entry);
    }
    out.insert(out.end(), added.begin(), added.end());
    return out;
}

ChildStream::ChildStream(ChildSpec spec)
    : m_on_stderr(std::move(spec.on_stderr)), m_description(std::move(spec.description)),
      m_read_timeout(spec.read_timeout) {
    const std::string& program = spec.argv.at(0);
    const bool capture = static_cast<bool>(m_on_stderr);
    int in_pipe[2] = {-1, -1};   // parent writes [1], child's stdin is [0]
    int out_pipe[2] = {-1, -1};  // child's stdout is [1], parent reads [0]
    int err_pipe[2] = {-1, -1};  // child's stderr is [1], parent reads [0]
    auto close_all = [&] {
        for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]})
            if (fd >= 0) ::close(fd);
    };
    if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 ||
        (capture && ::pipe2(err_pipe, O_CLOEXEC) != 0)) {
        int err = errno;
        close_all();
        throw TransportError(Kind::Io, errno_message("cannot start " + m_description + ": pipe", err));
    }

    // posix_spawn instead of fork: safe in a multi-threaded process and cheap.
    // dup2 clears O_CLOEXEC on the child's copies; every other pipe end is
    // close-on-exec, so the child holds only its stdin, stdout (and stderr).
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    if (capture) posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
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
    short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    if (spec.own_process_group) {
        posix_spawnattr_setpgroup(&attr, 0);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&attr, flags);

    std::vector<char*> argv;
    for (std::string& arg : spec.argv) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<std::string> environment;
    std::vector<char*> envp;
    if (!spec.environment.empty()) {
        environment = child_environment(environ, spec.environment);
        for (std::string& entry : environment) envp.push_back(entry.data());
        envp.push_back(nullptr);
    }
    pid_t pid = -1;
    // posix_spawnp searches $PATH only for a name without '/'.
    int rc = ::posix_spawnp(&pid, program.c_str(), &actions, &attr, argv.data(),
                            envp.empty() ? environ : envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        close_all();
        throw TransportError(Kind::Io, errno_message("cannot start " + m_description, rc));
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    if (capture) {
        ::close(err_pipe[1]);
        ::fcntl(err_pipe[0], F_SETFL, ::fcntl(err_pipe[0], F_GETFL) | O_NONBLOCK);
    }
    // Non-blocking writes let write_all time out instead of hanging on a
    // child that never reads.
    ::fcntl(in_pipe[1], F_SETFL, ::fcntl(in_pipe[1], F_GETFL) | O_NONBLOCK);
    ::fcntl(out_pipe[0], F_SETFL, ::fcntl(out_pipe[0], F_GETFL) | O_NONBLOCK);
    // A pipe holds 64 KiB by default: a server writing a mailbox into it
    // stalls each time we stop to write a file, where a TCP socket's buffer
    // would have let it run ahead. Best effort: the limit is
    // /proc/sys/fs/pipe-max-size (1 MiB by default).
    ::fcntl(out_pipe[0], F_SETPIPE_SZ, kPipeSize);
    ::fcntl(in_pipe[1], F_SETPIPE_SZ, kPipeSize);
    m_pid = pid;
    m_to_child = in_pipe[1];
    m_from_child = out_pipe[0];
    m_stderr = capture ? err_pipe[0] : -1;
}

void ChildStream::read_stderr() {
    char buffer[4096];
    while (m_stderr >= 0) {
        ssize_t n = ::read(m_stderr, buffer, sizeof buffer);
        if (n > 0) {
            m_on_stderr(std::string_view(buffer, static_cast<std::size_t>(n)));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        ::close(m_stderr);  // EOF or an error: nothing more will come
        m_stderr = -1;
    }
}

bool ChildStream::wait(int fd, short events, std::optional<Clock::time_point> deadline) {
    if (m_stderr < 0) return wait_fd_until(fd, events, deadline);
    while (true) {
        pollfd p[2] = {{fd, events, 0}, {m_stderr, POLLIN, 0}};
        int rc = ::poll(p, 2, poll_ms(deadline));
        if (rc < 0) {
            if (errno == EINTR) continue;
            throw TransportError(Kind::Io, errno_message("poll", errno));
        }
        if (p[1].revents != 0) read_stderr();
        if (p[0].revents != 0) return true;
        if (m_stderr < 0) return wait_fd_until(fd, events, deadline);
        if (rc == 0 && deadline && Clock::now() >= *deadline) return false;
    }
}

ChildStream::Event ChildStream::wait_event(std::optional<Clock::time_point> deadline) {
    check_open();
    if (m_stderr < 0) return wait_fd_until(m_from_child, POLLIN, deadline) ? Event::Stdout : Event::Timeout;
    while (true) {
        pollfd p[2] = {{m_from_child, POLLIN, 0}, {m_stderr, POLLIN, 0}};
        int rc = ::poll(p, 2, poll_ms(deadline));
        if (rc < 0) {
            if (errno == EINTR) continue;
            throw TransportError(Kind::Io, errno_message("poll", errno));
        }
        if (p[1].revents != 0) {
            read_stderr();
            return Event::Stderr;
        }
        if (p[0].revents != 0) return Event::Stdout;
        if (deadline && Clock::now() >= *deadline) return Event::Timeout;
    }
}

void ChildStream::drain_stderr_until(Clock::time_point deadline) {
    while (m_stderr >= 0) {
        if (!wait_fd_until(m_stderr, POLLIN, deadline)) return;
        read_stderr();
    }
}

std::size_t ChildStream::read_some(std::span<char> buffer) {
    check_open();
    if (buffer.empty()) return 0;
    // Read first, poll only when the pipe is empty: a bulk download finds
    // it full most of the time. A child blocked on a full stderr pipe stops
    // filling stdout, so its stderr is drained by the wait below.
    std::optional<Clock::time_point> deadline;
    bool waited = false;
    while (true) {
        ssize_t n = ::read(m_from_child, buffer.data(), buffer.size());
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno == EINTR) continue;
        if (errno != EAGAIN) throw TransportError(Kind::Io, errno_message("read from " + m_description, errno));
        if (!waited) deadline = deadline_after(m_read_timeout);
        waited = true;
        if (!wait(m_from_child, POLLIN, deadline)) {
            throw TransportError(Kind::Timeout, "read from " + m_description + " timed out");
        }
    }
}

void ChildStream::write_all(std::string_view data) {
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
            if (!wait(m_to_child, POLLOUT, deadline_after(m_read_timeout))) {
                throw TransportError(Kind::Timeout, "write to " + m_description + " timed out");
            }
            continue;
        }
        if (errno == EPIPE) guard.saw_epipe();
        throw TransportError(Kind::Io, errno_message("write to " + m_description, errno));
    }
}

bool ChildStream::wait_exit(std::chrono::milliseconds grace) {
    if (m_reaped) return true;
    auto deadline = Clock::now() + grace;
    auto step = std::chrono::milliseconds(1);
    while (true) {
        int status = 0;
        pid_t rc = ::waitpid(m_pid, &status, WNOHANG);
        if (rc == m_pid || (rc < 0 && errno == ECHILD)) {
            m_reaped = true;
            if (rc == m_pid) m_status = status;
            return true;
        }
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(step);
        step = std::min(step * 2, std::chrono::milliseconds(50));
    }
}

void ChildStream::close() noexcept {
    if (m_pid < 0 || m_to_child < 0) return;
    // Closing stdin is the polite request to stop (an IMAP server exits
    // on EOF); closing stdout makes a child that keeps writing get EPIPE.
    ::close(m_to_child);
    ::close(m_from_child);
    if (m_stderr >= 0) ::close(m_stderr);
    m_to_child = m_from_child = m_stderr = -1;
    if (!wait_exit(kExitGrace)) {
        ::kill(m_pid, SIGTERM);
        if (!wait_exit(kExitGrace)) {
            ::kill(m_pid, SIGKILL);
            int status = 0;
            while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
            }
            m_reaped = true;
            m_status = status;
        }
    }
}

void ChildStream::check_open() const {
    if (m_to_child < 0) throw TransportError(Kind::Closed, m_description + " is closed");
}

}  // namespace detail

StreamPtr spawn_process(const std::string& command, std::optional<std::chrono::milliseconds> read_timeout) {
    detail::ChildSpec spec;
    spec.argv = {"/bin/sh", "-c", command};
    spec.description = "process: " + command;
    spec.read_timeout = read_timeout;
    return std::make_unique<detail::ChildStream>(std::move(spec));
}

}  // namespace imapkeep::transport
