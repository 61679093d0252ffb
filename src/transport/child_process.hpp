// Private: the one place that spawns a child whose stdin/stdout carry a
// stream. spawn_process (`sh -c COMMAND`, process.hpp) and the OpenSSH engine
// of the SSH transport (argv of `ssh`, openssh.cpp) are both built on it.
#pragma once

#include <imapkeep/transport/stream.hpp>

#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace imapkeep::transport::detail {

struct ChildSpec {
    // argv[0] is the program: looked up on $PATH unless it holds a '/'. The
    // arguments reach it as they are: no shell ever parses them.
    std::vector<std::string> argv;
    // Set: the child's stderr is a pipe, and every chunk read from it is handed
    // here (while a read or write waits, and before EOF is reported). Empty:
    // stderr is inherited.
    std::function<void(std::string_view)> on_stderr;
    std::string description;  // for messages and describe()
    // The child leads a process group of its own. A terminal's Ctrl-C goes to
    // the foreground group: then it reaches imapkeep alone, which stops at a
    // durable boundary and closes the stream, instead of also killing the
    // child under the session it is finishing. Only for a child that never
    // reads the terminal (a background group's read stops it): ssh in
    // BatchMode, not a user's command that may prompt.
    bool own_process_group = false;
    std::optional<std::chrono::milliseconds> read_timeout;
    // "NAME=value" each: the child's environment is this process's, with
    // these added (one of the same NAME is replaced).
    std::vector<std::string> environment;
};

// This process's environment (`inherited`, as environ) with `added` in
// (ChildSpec::environment), in that order: what a child gets.
std::vector<std::string> child_environment(const char* const* inherited,
                                           const std::vector<std::string>& added);

// The child's stdin/stdout as a Stream. Writing to a child that has gone is
// TransportError(Io), never SIGPIPE. close() closes the pipes, gives the child
// 0.5 s to exit, then SIGTERM, 0.5 s more, then SIGKILL, and reaps it.
class ChildStream final : public Stream {
public:
    // Throws TransportError(Io) if the program cannot be started; errno()
    // of that failure is in the message (ENOENT: no such program on $PATH).
    explicit ChildStream(ChildSpec spec);
    ~ChildStream() override { close(); }
    ChildStream(const ChildStream&) = delete;
    ChildStream& operator=(const ChildStream&) = delete;

    std::size_t read_some(std::span<char> buffer) override;
    void write_all(std::string_view data) override;
    void close() noexcept override;
    void set_read_timeout(std::optional<std::chrono::milliseconds> timeout) override { m_read_timeout = timeout; }
    int native_handle() const override { return m_from_child; }
    std::string describe() const override { return m_description; }

    // Waits for the next event: stdout readable (bytes, EOF or hang-up; nothing
    // is read from it), a stderr chunk handed on, or `deadline` passed.
    enum class Event { Stdout, Stderr, Timeout };
    Event wait_event(std::optional<std::chrono::steady_clock::time_point> deadline);
    // Reads what the child has written to stderr, up to its EOF or `deadline`.
    void drain_stderr_until(std::chrono::steady_clock::time_point deadline);
    // True once the child has exited (and is reaped), waiting up to `grace`.
    bool wait_exit(std::chrono::milliseconds grace);
    // Its wait status (waitpid) once reaped, by wait_exit() or close().
    std::optional<int> exit_status() const { return m_status; }

private:
    // Polls `fd` for `events` and, meanwhile, the stderr pipe. False on timeout.
    bool wait(int fd, short events, std::optional<std::chrono::steady_clock::time_point> deadline);
    void read_stderr();
    void check_open() const;

    pid_t m_pid = -1;
    bool m_reaped = false;
    std::optional<int> m_status;
    int m_to_child = -1;
    int m_from_child = -1;
    int m_stderr = -1;
    std::function<void(std::string_view)> m_on_stderr;
    std::string m_description;
    std::optional<std::chrono::milliseconds> m_read_timeout;
};

}  // namespace imapkeep::transport::detail
