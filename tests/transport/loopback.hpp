// Test helper: a one-connection TCP listener on 127.0.0.1 whose handler runs
// on its own thread with the accepted socket.
#pragma once

#include <arpa/inet.h>
#include <csignal>
#include <pthread.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

namespace imapkeep::test {

// Binds 127.0.0.1 on an ephemeral port and returns the listening socket.
inline int listen_loopback(int backlog, int& port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket");
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, backlog) != 0) {
        ::close(fd);
        throw std::runtime_error("bind/listen");
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    return fd;
}

// A port on 127.0.0.1 that nobody listens on (bound, then released).
inline int unused_port() {
    int port = 0;
    int fd = listen_loopback(1, port);
    ::close(fd);
    return port;
}

inline void write_fd(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

// Reads until `terminator` was seen or EOF; returns what was read.
inline std::string read_fd_until(int fd, const std::string& terminator) {
    std::string got;
    char buf[4096];
    while (got.find(terminator) == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
}

class Listener {
public:
    using Handler = std::function<void(int fd)>;

    explicit Listener(Handler handler) {
        m_fd = listen_loopback(8, m_port);
        m_thread = std::thread([this, handler = std::move(handler)] {
            // Test servers write with plain write() (OpenSSL's socket BIO) to
            // clients that may have hung up; keep that SIGPIPE in this thread.
            sigset_t pipe;
            sigemptyset(&pipe);
            sigaddset(&pipe, SIGPIPE);
            pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
            // Bounded, so a test whose client never connects cannot hang.
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, 10000) != 1) return;
            int conn = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (conn < 0) return;
            handler(conn);
            ::close(conn);
        });
    }
    ~Listener() {
        if (m_thread.joinable()) m_thread.join();
        ::close(m_fd);
    }
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    int port() const { return m_port; }
    void join() {
        if (m_thread.joinable()) m_thread.join();
    }

private:
    int m_fd = -1;
    int m_port = 0;
    std::thread m_thread;
};

}  // namespace imapkeep::test
