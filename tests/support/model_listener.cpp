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

ModelListener::ModelListener(ModelServer& server)
    : m_server(server), m_acceptor("ModelListener", [this](int client) { serve(client); }) {}


void ModelListener::serve(int client) {
    auto model = m_server.open();
    std::array<char, 16 * 1024> buffer;
    try {
        if (send_answers(*model, client))  // the greeting
            for (;;) {
                pollfd fds[2] = {{client, POLLIN, 0}, {m_acceptor.wake_fd(), POLLIN, 0}};
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
