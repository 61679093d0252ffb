// The SSH stream: TCP connect, handshake, host key check, authentication and
// one channel (exec or direct-tcpip, RFC 4254 §6.5 / §7.2). Setup runs in
// libssh2's blocking mode bounded by the connect timeout; data transfer runs
// non-blocking with poll() so read timeouts and keepalives stay in our hands.
#include "transport/openssh.hpp"
#include "transport/ssh_detail.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace imapkeep::transport {
namespace ssh_detail {

void ensure_libssh2_init() {
    static std::once_flag once;
    static int rc = 0;
    std::call_once(once, [] { rc = libssh2_init(0); });
    if (rc != 0) {
        throw TransportError(TransportError::Kind::Ssh, "ssh: libssh2_init failed");
    }
}

std::string expand_home(const std::string& path) {
    if (path != "~" && !path.starts_with("~/")) {
        return path;
    }
    std::string home;
    if (const char* env = std::getenv("HOME"); env != nullptr && *env != '\0') {
        home = env;
    } else if (const passwd* entry = ::getpwuid(::getuid()); entry != nullptr) {
        home = entry->pw_dir;
    }
    return home + path.substr(1);
}

std::string last_error(LIBSSH2_SESSION* session) {
    char* message = nullptr;
    int length = 0;
    libssh2_session_last_error(session, &message, &length, 0);
    return message != nullptr ? std::string(message, static_cast<std::size_t>(length)) : "";
}

void throw_ssh_error(LIBSSH2_SESSION* session, int rc, const std::string& what) {
    std::string message = "ssh: " + what;
    if (const std::string detail = last_error(session); !detail.empty()) {
        message += ": " + detail;
    }
    switch (rc) {
    case LIBSSH2_ERROR_TIMEOUT:
    case LIBSSH2_ERROR_SOCKET_TIMEOUT:
        throw TransportError(TransportError::Kind::Timeout, message);
    case LIBSSH2_ERROR_SOCKET_SEND:
    case LIBSSH2_ERROR_SOCKET_RECV:
    case LIBSSH2_ERROR_SOCKET_DISCONNECT:
    case LIBSSH2_ERROR_BANNER_RECV:
        throw TransportError(TransportError::Kind::Io, message);
    default:
        throw TransportError(TransportError::Kind::Ssh, message);
    }
}

}  // namespace ssh_detail

namespace {

using namespace ssh_detail;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Receive window for exec channels; direct-tcpip channels get libssh2's fixed
// 2 MiB. Large windows keep the server sending while we parse.
constexpr unsigned kWindowSize = 4 * 1024 * 1024;
constexpr unsigned kPacketSize = 32 * 1024;  // the largest libssh2 accepts
constexpr std::size_t kStderrKept = 4096;
// How long a dead exec channel may take to report its exit status.
constexpr milliseconds kExitStatusWait{2000};
constexpr milliseconds kCloseTimeout{2000};

class Deadline {
public:
    explicit Deadline(std::optional<milliseconds> timeout) {
        if (timeout) {
            m_at = Clock::now() + *timeout;
        }
    }
    // Milliseconds left for poll(): -1 = forever.
    int poll_ms() const {
        if (!m_at) {
            return -1;
        }
        const auto left = std::chrono::duration_cast<milliseconds>(*m_at - Clock::now()).count();
        return static_cast<int>(std::clamp<long long>(left, 0, 24 * 3600 * 1000));
    }
    bool passed() const { return m_at && Clock::now() >= *m_at; }

private:
    std::optional<Clock::time_point> m_at;
};

struct AddrInfoDeleter {
    void operator()(addrinfo* info) const { ::freeaddrinfo(info); }
};

int connect_socket(const std::string& host, int port, std::optional<milliseconds> timeout) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    addrinfo* raw = nullptr;
    const std::string service = std::to_string(port);
    const int gai = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &raw);
    if (gai != 0) {
        throw TransportError(TransportError::Kind::Resolve,
                             "ssh: cannot resolve " + host + ": " + ::gai_strerror(gai));
    }
    std::unique_ptr<addrinfo, AddrInfoDeleter> addresses(raw);
    const Deadline deadline(timeout);
    std::string failure = "no address";
    bool timed_out = false;
    for (const addrinfo* a = addresses.get(); a != nullptr; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                                a->ai_protocol);
        if (fd < 0) {
            failure = std::strerror(errno);
            continue;
        }
        int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            do {
                rc = ::poll(&p, 1, deadline.poll_ms());
            } while (rc < 0 && errno == EINTR);
            if (rc == 0) {
                timed_out = true;
                failure = "timed out";
                ::close(fd);
                break;
            }
            int error = 0;
            socklen_t length = sizeof error;
            if (rc > 0 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0) {
                errno = error;
                rc = error == 0 ? 0 : -1;
            }
        }
        if (rc == 0) {
            const int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return fd;
        }
        failure = std::strerror(errno);
        ::close(fd);
    }
    throw TransportError(timed_out ? TransportError::Kind::Timeout : TransportError::Kind::Io,
                         "ssh: cannot connect to " + known_hosts_name(host, port) + ": " + failure);
}

std::string first_line(const std::string& text) {
    std::string line = text.substr(0, text.find('\n'));
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    return line;
}

class SshStream final : public Stream {
public:
    explicit SshStream(SshOptions options)
        : m_options(std::move(options)), m_read_timeout(m_options.read_timeout) {}
    ~SshStream() override { close(); }
    SshStream(const SshStream&) = delete;
    SshStream& operator=(const SshStream&) = delete;

    void open();

    std::size_t read_some(std::span<char> buffer) override;
    void write_all(std::string_view data) override;
    void close() noexcept override;
    void set_read_timeout(std::optional<milliseconds> timeout) override { m_read_timeout = timeout; }
    std::size_t pending() const override;
    int native_handle() const override { return m_fd; }
    std::string describe() const override;
    // The cipher negotiated for what the server sends.
    std::string cipher() const {
        const char* name = m_session ? libssh2_session_methods(m_session, LIBSSH2_METHOD_CRYPT_SC) : nullptr;
        return name ? name : "unknown";
    }

private:
    bool exec_mode() const { return !m_options.command.empty(); }
    void check_open() const;
    void wait_socket(const Deadline& deadline, const char* what);
    void drain_stderr();
    std::size_t finish_eof();

    SshOptions m_options;
    std::optional<milliseconds> m_read_timeout;
    int m_fd = -1;
    LIBSSH2_SESSION* m_session = nullptr;
    LIBSSH2_CHANNEL* m_channel = nullptr;
    std::uint64_t m_received = 0;
    std::string m_stderr;  // the first kStderrKept bytes of the remote's stderr
    bool m_eof = false;
    bool m_closed = false;
};

namespace {
// LIBSSH2_SEND_FUNC: errors are returned as -errno, as libssh2's own send does.
ssize_t send_without_sigpipe(libssh2_socket_t socket, const void* buffer, size_t length,
                             int flags, void**) {
    ssize_t n = ::send(socket, buffer, length, flags | MSG_NOSIGNAL);
    return n < 0 ? -errno : n;
}
}  // namespace

void SshStream::open() {
    ensure_libssh2_init();
    m_fd = connect_socket(m_options.host, m_options.port, m_options.connect_timeout);
    m_session = libssh2_session_init();
    if (m_session == nullptr) {
        throw TransportError(TransportError::Kind::Ssh, "ssh: cannot create a session");
    }
    // libssh2 sends with plain send(): a peer that vanished would kill the whole
    // process with SIGPIPE. Route its writes through MSG_NOSIGNAL instead.
    libssh2_session_callback_set(m_session, LIBSSH2_CALLBACK_SEND,
                                 reinterpret_cast<void*>(&send_without_sigpipe));
    // Blocking calls below give up after the connect timeout (0 = never).
    libssh2_session_set_blocking(m_session, 1);
    libssh2_session_set_timeout(
        m_session, m_options.connect_timeout ? static_cast<long>(m_options.connect_timeout->count()) : 0);
    // Only algorithms this libssh2 knows: it drops unknown ones from the list
    // with an overlapping memcpy (seen under ASan in 1.10).
    std::string preference;
    {
        const char** algorithms = nullptr;
        int count = libssh2_session_supported_algs(m_session, LIBSSH2_METHOD_HOSTKEY, &algorithms);
        std::vector<std::string> supported;
        for (int i = 0; i < count; ++i) supported.emplace_back(algorithms[i]);
        if (algorithms) libssh2_free(m_session, algorithms);
        std::string wanted = host_key_preference(m_options);
        std::size_t start = 0;
        while (start <= wanted.size()) {
            std::size_t end = wanted.find(',', start);
            if (end == std::string::npos) end = wanted.size();
            std::string algorithm = wanted.substr(start, end - start);
            if (!algorithm.empty() &&
                std::find(supported.begin(), supported.end(), algorithm) != supported.end())
                preference += (preference.empty() ? "" : ",") + algorithm;
            start = end + 1;
        }
    }
    if (!preference.empty())
        libssh2_session_method_pref(m_session, LIBSSH2_METHOD_HOSTKEY, preference.c_str());
    // Ciphers and MACs stay libssh2's defaults: against OpenSSH they settle on
    // aes128-ctr and hmac-sha2-256, the cheapest pair libssh2 1.10 has (no GCM,
    // chacha20 or etm; with SHA-NI sha2-256 is 2.8 times faster than -512),
    // without compression. What an SSH stream costs beyond TCP is libssh2's
    // own: it decrypts 16 bytes per EVP_Cipher call, two thirds of the client's
    // CPU on a 537 MB exec download (issue 10).
    if (const int rc = libssh2_session_handshake(m_session, m_fd); rc != 0) {
        throw_ssh_error(m_session, rc,
                        "handshake with " + known_hosts_name(m_options.host, m_options.port) + " failed");
    }
    verify_host_key(m_session, m_options);
    authenticate(m_session, m_options);

    if (exec_mode()) {
        m_channel = libssh2_channel_open_ex(m_session, "session", sizeof "session" - 1, kWindowSize,
                                            kPacketSize, nullptr, 0);
        if (m_channel == nullptr) {
            throw_ssh_error(m_session, libssh2_session_last_errno(m_session), "cannot open a session channel");
        }
        if (const int rc = libssh2_channel_exec(m_channel, m_options.command.c_str()); rc != 0) {
            throw_ssh_error(m_session, rc, "the server refused to run `" + m_options.command + "`");
        }
    } else {
        if (m_options.forward_host.empty() || m_options.forward_port <= 0) {
            throw TransportError(TransportError::Kind::Ssh,
                                 "ssh: neither a command (exec mode) nor a forward target is set");
        }
        m_channel = libssh2_channel_direct_tcpip_ex(m_session, m_options.forward_host.c_str(),
                                                    m_options.forward_port, "127.0.0.1", 0);
        if (m_channel == nullptr) {
            throw_ssh_error(m_session, libssh2_session_last_errno(m_session),
                            "the server did not forward to " + m_options.forward_host + ":" +
                                std::to_string(m_options.forward_port));
        }
    }
    if (m_options.keepalive_seconds > 0) {
        libssh2_keepalive_config(m_session, 1, static_cast<unsigned>(m_options.keepalive_seconds));
    }
    libssh2_session_set_blocking(m_session, 0);
}

void SshStream::check_open() const {
    if (m_closed || m_channel == nullptr) {
        throw TransportError(TransportError::Kind::Closed, "ssh: stream is closed");
    }
}

void SshStream::wait_socket(const Deadline& deadline, const char* what) {
    const int directions = libssh2_session_block_directions(m_session);
    short events = 0;
    if (directions & LIBSSH2_SESSION_BLOCK_INBOUND) {
        events |= POLLIN;
    }
    if (directions & LIBSSH2_SESSION_BLOCK_OUTBOUND) {
        events |= POLLOUT;
    }
    if (events == 0) {
        events = POLLIN;
    }
    for (;;) {
        int wait_ms = deadline.poll_ms();
        if (m_options.keepalive_seconds > 0) {
            // Sends one if the interval has passed; tells when the next is due.
            int next_seconds = 0;
            if (libssh2_keepalive_send(m_session, &next_seconds) == 0 && next_seconds > 0) {
                const int keepalive_ms = next_seconds * 1000;
                wait_ms = wait_ms < 0 ? keepalive_ms : std::min(wait_ms, keepalive_ms);
            }
        }
        pollfd p{m_fd, events, 0};
        const int rc = ::poll(&p, 1, wait_ms);
        if (rc > 0) {
            return;
        }
        if (rc < 0 && errno != EINTR) {
            throw TransportError(TransportError::Kind::Io,
                                 std::string("ssh: poll failed: ") + std::strerror(errno));
        }
        if (deadline.passed()) {
            throw TransportError(TransportError::Kind::Timeout,
                                 std::string("ssh: ") + what + " timed out on " + describe());
        }
    }
}

// The remote's stderr is kept (its start) for error messages and otherwise
// discarded; leaving it unread would stall the channel's window.
void SshStream::drain_stderr() {
    char buffer[8192];
    for (;;) {
        const ssize_t n = libssh2_channel_read_stderr(m_channel, buffer, sizeof buffer);
        if (n <= 0) {
            return;
        }
        const std::size_t keep = std::min(static_cast<std::size_t>(n), kStderrKept - std::min(kStderrKept, m_stderr.size()));
        m_stderr.append(buffer, keep);
    }
}

std::size_t SshStream::read_some(std::span<char> buffer) {
    check_open();
    if (buffer.empty() || m_eof) {
        return 0;
    }
    const Deadline deadline(m_read_timeout);
    bool drained = false;  // stderr drained since the last stdout read
    for (;;) {
        const ssize_t n = libssh2_channel_read(m_channel, buffer.data(), buffer.size());
        if (n > 0) {
            m_received += static_cast<std::uint64_t>(n);
            return static_cast<std::size_t>(n);
        }
        if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
            if (n == LIBSSH2_ERROR_CHANNEL_CLOSED) {
                return finish_eof();
            }
            throw_ssh_error(m_session, static_cast<int>(n), "read from " + describe() + " failed");
        }
        if (!drained) {
            // Reading stderr may process packets (stdout data, a window
            // adjust) and leaves its own block directions: read stdout again
            // before sleeping, so the poll waits for what that read needs.
            drain_stderr();
            drained = true;
            if (libssh2_channel_eof(m_channel)) {
                return finish_eof();
            }
            continue;
        }
        drained = false;
        wait_socket(deadline, "read");
    }
}

// An exec channel that ends before sending a single byte means the command
// failed to start or died at once: say so with its status and stderr, rather
// than as a bare EOF the IMAP layer would call "connection closed".
std::size_t SshStream::finish_eof() {
    m_eof = true;
    if (!exec_mode() || m_received > 0) {
        return 0;
    }
    const Deadline deadline(m_read_timeout ? std::min(*m_read_timeout, kExitStatusWait) : kExitStatusWait);
    bool closed = false;
    try {
        for (;;) {
            drain_stderr();
            const int rc = libssh2_channel_wait_closed(m_channel);
            if (rc == 0) {
                closed = true;
                break;
            }
            if (rc != LIBSSH2_ERROR_EAGAIN) {
                break;
            }
            wait_socket(deadline, "waiting for the exit status");
        }
    } catch (const TransportError&) {
        // No status in time: report what we have.
    }
    drain_stderr();
    std::string status = "closed its output";
    char* signal = nullptr;
    if (libssh2_channel_get_exit_signal(m_channel, &signal, nullptr, nullptr, nullptr, nullptr,
                                        nullptr) == 0 &&
        signal != nullptr) {
        status = "was killed by signal " + std::string(signal);
        libssh2_free(m_session, signal);
    } else if (closed) {
        status = "exited with status " + std::to_string(libssh2_channel_get_exit_status(m_channel));
    }
    std::string message = "ssh: remote command `" + m_options.command + "` on " +
                          m_options.user + "@" + known_hosts_name(m_options.host, m_options.port) +
                          " " + status + " without any output";
    if (const std::string line = first_line(m_stderr); !line.empty()) {
        message += ": " + line;
    }
    throw TransportError(TransportError::Kind::Ssh, message);
}

void SshStream::write_all(std::string_view data) {
    check_open();
    while (!data.empty()) {
        // The deadline bounds each stretch without progress, not the whole write.
        const Deadline deadline(m_read_timeout);
        bool drained = false;  // stderr drained since the last write attempt
        for (;;) {
            const ssize_t n = libssh2_channel_write(m_channel, data.data(), data.size());
            if (n > 0) {
                data.remove_prefix(static_cast<std::size_t>(n));
                break;
            }
            if (n != LIBSSH2_ERROR_EAGAIN) {
                throw_ssh_error(m_session, static_cast<int>(n), "write to " + describe() + " failed");
            }
            if (!drained) {
                // The drain may take in the window adjust this write waits
                // for, and overwrites the block directions: write again
                // before sleeping (a poll for the wrong direction, or for a
                // packet already read, slept until the next keepalive).
                drain_stderr();
                drained = true;
                continue;
            }
            drained = false;
            wait_socket(deadline, "write");
        }
    }
}

std::size_t SshStream::pending() const {
    if (m_channel == nullptr || m_closed) {
        return 0;
    }
    unsigned long available = 0;
    libssh2_channel_window_read_ex(m_channel, &available, nullptr);
    return available;
}

void SshStream::close() noexcept {
    if (m_closed) {
        return;
    }
    m_closed = true;
    if (m_session != nullptr) {
        // A polite shutdown, but never a long one: the peer may be gone.
        libssh2_session_set_blocking(m_session, 1);
        libssh2_session_set_timeout(m_session, static_cast<long>(kCloseTimeout.count()));
        if (m_channel != nullptr) {
            libssh2_channel_send_eof(m_channel);
            libssh2_channel_close(m_channel);
            libssh2_channel_free(m_channel);
            m_channel = nullptr;
        }
        libssh2_session_disconnect(m_session, "imapkeep closing");
        libssh2_session_free(m_session);
        m_session = nullptr;
    }
    if (m_fd >= 0) {
        ::close(m_fd);
        m_fd = -1;
    }
}

std::string SshStream::describe() const {
    std::string text = "ssh " + m_options.user + "@" + known_hosts_name(m_options.host, m_options.port);
    if (exec_mode()) {
        return text + " exec `" + m_options.command + "`";
    }
    return text + " forward " + m_options.forward_host + ":" + std::to_string(m_options.forward_port);
}

}  // namespace

namespace ssh_detail {

StreamPtr connect_libssh2(const SshOptions& options) {
    auto stream = std::make_unique<SshStream>(options);
    stream->open();  // on failure the destructor releases whatever was set up
    return stream;
}

std::string check_libssh2(const SshOptions& options) {
    SshStream stream(options);
    stream.open();
    const std::string cipher = stream.cipher();
    stream.close();
    return std::string("libssh2 ") + libssh2_version(0) + ", cipher " + cipher;
}

}  // namespace ssh_detail

const char* engine_name(SshEngine engine) {
    return engine == SshEngine::OpenSsh ? "openssh" : "libssh2";
}

StreamPtr connect_ssh(const SshOptions& options) {
    return options.engine == SshEngine::OpenSsh ? openssh::connect(options) : ssh_detail::connect_libssh2(options);
}

std::string check_ssh(const SshOptions& options) {
    return options.engine == SshEngine::OpenSsh ? openssh::check(options) : ssh_detail::check_libssh2(options);
}

}  // namespace imapkeep::transport
