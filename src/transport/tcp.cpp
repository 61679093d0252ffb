#include <imapkeep/transport/tcp.hpp>

#include "fd_wait.hpp"

#include <cerrno>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace imapkeep::transport {
namespace {

using detail::Clock;
using detail::errno_message;
using Kind = TransportError::Kind;

class TcpStream final : public Stream {
public:
    TcpStream(int fd, std::string description, std::optional<std::chrono::milliseconds> read_timeout)
        : m_fd(fd), m_description(std::move(description)), m_read_timeout(read_timeout) {}
    ~TcpStream() override { close(); }
    TcpStream(const TcpStream&) = delete;
    TcpStream& operator=(const TcpStream&) = delete;

    std::size_t read_some(std::span<char> buffer) override {
        check_open();
        if (buffer.empty()) return 0;
        std::optional<Clock::time_point> deadline;
        if (m_read_timeout) deadline = Clock::now() + *m_read_timeout;
        while (true) {
            ssize_t n = ::recv(m_fd, buffer.data(), buffer.size(), 0);
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                throw TransportError(Kind::Io, errno_message("read from " + m_description, errno));
            }
            if (!detail::wait_fd_until(m_fd, POLLIN, deadline)) {
                throw TransportError(Kind::Timeout, "read from " + m_description + " timed out");
            }
        }
    }

    void write_all(std::string_view data) override {
        check_open();
        // A peer that stops reading would block us forever; the read timeout
        // doubles as the limit for waiting on send buffer space.
        while (!data.empty()) {
            ssize_t n = ::send(m_fd, data.data(), data.size(), MSG_NOSIGNAL);
            if (n >= 0) {
                data.remove_prefix(static_cast<std::size_t>(n));
                continue;
            }
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                throw TransportError(Kind::Io, errno_message("write to " + m_description, errno));
            }
            if (!detail::wait_fd(m_fd, POLLOUT, m_read_timeout)) {
                throw TransportError(Kind::Timeout, "write to " + m_description + " timed out");
            }
        }
    }

    void close() noexcept override {
        if (m_fd >= 0) {
            ::close(m_fd);
            m_fd = -1;
        }
    }

    void set_read_timeout(std::optional<std::chrono::milliseconds> timeout) override { m_read_timeout = timeout; }
    int native_handle() const override { return m_fd; }
    std::string describe() const override { return m_description; }

private:
    void check_open() const {
        if (m_fd < 0) throw TransportError(Kind::Closed, m_description + " is closed");
    }

    int m_fd;
    std::string m_description;
    std::optional<std::chrono::milliseconds> m_read_timeout;
};

// Connects one address without blocking past `deadline`. Returns the socket,
// or -1 with `err` set (ETIMEDOUT when the deadline passed).
int connect_one(const addrinfo& ai, std::optional<Clock::time_point> deadline, int& err) {
    int fd = ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
    if (fd < 0) {
        err = errno;
        return -1;
    }
    int rc = ::connect(fd, ai.ai_addr, ai.ai_addrlen);
    if (rc != 0 && errno != EINPROGRESS && errno != EINTR) {
        err = errno;
        ::close(fd);
        return -1;
    }
    if (rc != 0) {
        bool ready = false;
        try {
            ready = detail::wait_fd_until(fd, POLLOUT, deadline);
        } catch (...) {
            ::close(fd);
            throw;
        }
        if (!ready) {
            err = ETIMEDOUT;
            ::close(fd);
            return -1;
        }
        int so_error = 0;
        socklen_t len = sizeof so_error;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) so_error = errno;
        if (so_error != 0) {
            err = so_error;
            ::close(fd);
            return -1;
        }
    }
    // IMAP is request/response with small commands: Nagle only adds latency.
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Long idle phases (big fetches on the other connection, IDLE) should
    // notice a dead peer eventually.
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    return fd;
}

}  // namespace

StreamPtr connect_tcp(const std::string& host_in, int port, const TcpOptions& options) {
    std::string host = host_in.empty() ? "localhost" : host_in;
    bool ipv6_literal = host.find(':') != std::string::npos;
    std::string description =
        "tcp " + (ipv6_literal ? "[" + host + "]" : host) + ":" + std::to_string(port);
    if (port <= 0 || port > 65535) {
        throw TransportError(Kind::Io, description + ": invalid port");
    }

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* result = nullptr;
    std::string service = std::to_string(port);
    int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &result);
    if (rc != 0) {
        std::string reason = rc == EAI_SYSTEM ? errno_message("getaddrinfo", errno) : ::gai_strerror(rc);
        throw TransportError(Kind::Resolve, "cannot resolve " + host + ": " + reason);
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(result, &::freeaddrinfo);

    // One deadline for all addresses, so a host with many dead addresses
    // cannot multiply the connect timeout.
    std::optional<Clock::time_point> deadline;
    if (options.connect_timeout) deadline = Clock::now() + *options.connect_timeout;
    int last_err = ECONNREFUSED;
    for (const addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
        int err = 0;
        int fd = connect_one(*ai, deadline, err);
        if (fd >= 0) return std::make_unique<TcpStream>(fd, description, options.read_timeout);
        last_err = err;
        if (err == ETIMEDOUT && deadline && Clock::now() >= *deadline) break;
    }
    if (last_err == ETIMEDOUT) {
        throw TransportError(Kind::Timeout, "connect to " + description + " timed out");
    }
    throw TransportError(Kind::Io, errno_message("connect to " + description, last_err));
}

}  // namespace imapkeep::transport
