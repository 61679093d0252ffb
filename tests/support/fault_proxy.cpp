#include "support/fault_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace imapkeep::testing {

namespace {

int connect_upstream(const std::string& host, int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

bool send_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// One direction of one connection: how far it may go before the fault.
struct Leg {
    int from, to;
    std::uint64_t forwarded = 0;
    std::uint64_t limit = UINT64_MAX;  // the fault's K, in this direction only
};

}  // namespace

FaultProxy::FaultProxy(const std::string& upstream_host, int upstream_port)
    : m_upstream_host(upstream_host),
      m_upstream_port(upstream_port),
      m_acceptor("FaultProxy", [this](int client) { serve(client); }) {}


void FaultProxy::set_fault(const Fault& fault) {
    std::lock_guard lock(m_mutex);
    m_fault = fault;
    m_fault_armed = fault.action != Action::None;
}

FaultProxy::Counts FaultProxy::counts() const {
    std::lock_guard lock(m_mutex);
    return m_counts;
}

void FaultProxy::reset_counts() {
    std::lock_guard lock(m_mutex);
    m_counts = {};
}

void FaultProxy::serve(int client) {
    Fault fault;
    {
        std::lock_guard lock(m_mutex);
        ++m_counts.connections;
        if (m_fault_armed) {
            fault = m_fault;
            if (!fault.every_connection) m_fault_armed = false;
        }
    }
    int server = connect_upstream(m_upstream_host, m_upstream_port);
    if (server < 0) {
        ::close(client);
        return;
    }
    Leg down{server, client}, up{client, server};
    if (fault.action != Action::None)
        (fault.direction == Direction::ServerToClient ? down : up).limit = fault.after;
    bool stalled = false, server_gone = false;
    std::array<char, 16 * 1024> buffer;
    auto pump = [&](Leg& leg, std::uint64_t& total) {
        // At the limit already: leave the bytes where they are.
        std::size_t room = static_cast<std::size_t>(
            std::min<std::uint64_t>(buffer.size(), leg.limit - leg.forwarded));
        ssize_t n = ::recv(leg.from, buffer.data(), std::max<std::size_t>(room, 1), 0);
        if (n <= 0) return false;
        std::size_t forward = std::min(static_cast<std::size_t>(n), room);
        {
            // Counted before they go: whoever has received them sees them counted.
            std::lock_guard lock(m_mutex);
            total += forward;
        }
        leg.forwarded += forward;
        return forward == 0 || send_all(leg.to, buffer.data(), forward);
    };
    auto at_limit = [&] { return down.forwarded >= down.limit || up.forwarded >= up.limit; };
    for (;;) {
        if (!stalled && fault.action != Action::None && at_limit()) {
            {
                std::lock_guard lock(m_mutex);
                ++m_counts.faults;
            }
            if (fault.action == Action::Cut) break;
            stalled = true;
        }
        pollfd fds[3] = {{client, POLLIN, 0},
                         {server_gone ? -1 : server, static_cast<short>(stalled ? 0 : POLLIN), 0},
                         {m_acceptor.wake_fd(), POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[2].revents) break;
        if (stalled) {
            // Forward nothing; only notice the client giving up. What the
            // server sends stays unread (it cannot tell a stall from a slow link).
            if (fds[0].revents && ::recv(client, buffer.data(), buffer.size(), 0) <= 0) break;
            if (fds[1].revents & (POLLHUP | POLLERR)) server_gone = true;
            continue;
        }
        if (fds[0].revents && !pump(up, m_counts.client_to_server)) break;
        if (fds[1].revents && !pump(down, m_counts.server_to_client)) break;
    }
    ::close(client);
    ::close(server);
}

}  // namespace imapkeep::testing
