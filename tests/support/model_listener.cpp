#include "support/model_listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace imapkeep::testing {

namespace {

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

// Everything the model has to say now (the scripted stream answers what was
// written when it is read, and gives 0 when it has nothing more).
bool send_answers(transport::Stream& model, int client) {
    std::array<char, 16 * 1024> buffer;
    for (;;) {
        std::size_t n = model.read_some(buffer);
        if (n == 0) return true;
        if (!send_all(client, buffer.data(), n)) return false;
    }
}

}  // namespace

ModelListener::ModelListener(ModelServer& server) : m_server(server) {
    if (::pipe2(m_wake, O_CLOEXEC) != 0) throw std::runtime_error("ModelListener: pipe failed");
    m_listen = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (m_listen < 0 || ::bind(m_listen, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(m_listen, 64) != 0 ||
        ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        std::string why = std::strerror(errno);
        if (m_listen >= 0) ::close(m_listen);
        ::close(m_wake[0]);
        ::close(m_wake[1]);
        throw std::runtime_error("ModelListener: cannot listen on 127.0.0.1: " + why);
    }
    m_port = ntohs(addr.sin_port);
    m_acceptor = std::thread([this] { accept_loop(); });
}

ModelListener::~ModelListener() {
    char byte = 1;
    (void)!::write(m_wake[1], &byte, 1);
    m_acceptor.join();
    std::vector<std::thread> connections;
    {
        std::lock_guard lock(m_mutex);
        connections.swap(m_connections);
    }
    for (auto& t : connections) t.join();
    ::close(m_listen);
    ::close(m_wake[0]);
    ::close(m_wake[1]);
}

void ModelListener::accept_loop() {
    for (;;) {
        pollfd fds[2] = {{m_listen, POLLIN, 0}, {m_wake[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents) return;
        int client = ::accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;
        int one = 1;
        ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        std::lock_guard lock(m_mutex);
        m_connections.emplace_back([this, client] { serve(client); });
    }
}

void ModelListener::serve(int client) {
    auto model = m_server.open();
    std::array<char, 16 * 1024> buffer;
    try {
        if (send_answers(*model, client))  // the greeting
            for (;;) {
                pollfd fds[2] = {{client, POLLIN, 0}, {m_wake[0], POLLIN, 0}};
                if (::poll(fds, 2, -1) < 0) {
                    if (errno == EINTR) continue;
                    break;
                }
                if (fds[1].revents) break;
                ssize_t n = ::recv(client, buffer.data(), buffer.size(), 0);
                if (n <= 0) break;
                model->write_all(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
                if (!send_answers(*model, client)) break;
            }
    } catch (const std::exception&) {
        // The model ended the connection (a hook's fault): so does the socket.
    }
    model->close();
    ::close(client);
}

}  // namespace imapkeep::testing
