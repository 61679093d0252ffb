// A TCP listener on 127.0.0.1 (a port the kernel picks) for the test servers
// of tests/support: accepts on a thread of its own and serves each connection
// on another, with TCP_NODELAY. Destroying it wakes every poll on wake_fd(),
// then joins the acceptor and every connection thread, so a handler may use
// its owner's members until then: make it the owner's last member.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace imapkeep::testing {

class LoopbackAcceptor {
  public:
    // `serve` gets each accepted socket and owns it (closes it). Throws
    // std::runtime_error "<name>: cannot listen on 127.0.0.1: ..." when the
    // socket cannot be set up.
    LoopbackAcceptor(std::string name, std::function<void(int client)> serve);
    ~LoopbackAcceptor();
    LoopbackAcceptor(const LoopbackAcceptor&) = delete;
    LoopbackAcceptor& operator=(const LoopbackAcceptor&) = delete;

    int port() const { return m_port; }
    // Readable once the acceptor is being destroyed: handlers poll it next
    // to their sockets, and end.
    int wake_fd() const { return m_wake[0]; }

  private:
    void accept_loop();

    std::function<void(int)> m_serve;
    int m_listen = -1;
    int m_port = 0;
    int m_wake[2] = {-1, -1};
    std::mutex m_mutex;
    std::vector<std::thread> m_connections;
    std::thread m_acceptor;  // last: starts once the members above exist
};

}  // namespace imapkeep::testing
