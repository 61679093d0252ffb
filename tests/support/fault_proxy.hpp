// A TCP proxy on 127.0.0.1 (an ephemeral port) in front of a real server, that
// counts the bytes of each direction and breaks connections on purpose: cut
// (close both ends) or stall (forward nothing more, keep both ends open) after
// exactly K bytes of one direction. Issue 9, "Hostile and broken networks".
//
// Contract:
// - One listener thread, and one thread per accepted connection; all of them
//   end (and every socket is closed) when the proxy is destroyed.
// - set_fault() applies to connections accepted afterwards: to the first of
//   them only, or to each of them (`every_connection`). K counts bytes from the
//   start of each connection, in the fault's direction; the byte at offset K is
//   never forwarded.
// - counts() sums every connection since reset_counts().
// - Throws std::runtime_error from the constructor if it cannot listen.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/loopback_acceptor.hpp"

namespace imapkeep::testing {

class FaultProxy {
  public:
    enum class Direction { ServerToClient, ClientToServer };
    enum class Action { None, Cut, Stall };
    struct Fault {
        Action action = Action::None;
        Direction direction = Direction::ServerToClient;
        std::uint64_t after = 0;        // K: bytes forwarded in `direction` before the fault
        bool every_connection = false;  // else the first connection accepted after set_fault
    };
    struct Counts {
        std::uint64_t server_to_client = 0;
        std::uint64_t client_to_server = 0;
        int connections = 0;
        int faults = 0;  // connections on which the fault happened
    };

    FaultProxy(const std::string& upstream_host, int upstream_port);
    FaultProxy(const FaultProxy&) = delete;
    FaultProxy& operator=(const FaultProxy&) = delete;

    int port() const { return m_acceptor.port(); }
    void set_fault(const Fault& fault);
    Counts counts() const;
    void reset_counts();

  private:
    struct Shared;
    void serve(int client);

    std::string m_upstream_host;
    int m_upstream_port = 0;
    mutable std::mutex m_mutex;
    Fault m_fault;
    bool m_fault_armed = false;  // a first-connection fault not yet taken
    Counts m_counts;
    LoopbackAcceptor m_acceptor;  // last: its connections end before the rest goes
};

}  // namespace imapkeep::testing
