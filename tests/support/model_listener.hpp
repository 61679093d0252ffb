// The model server (model_server.hpp) on TCP, 127.0.0.1 at an ephemeral port,
// so that a child process (the imapkeep binary) can reach it: each accepted
// connection is one ModelServer::open() stream, the client's bytes handed to
// it and its answers sent back as they come.
//
// Contract:
// - One listener thread, and one thread per accepted connection; all of them
//   end (and every socket is closed) when the listener is destroyed, which
//   must happen before the server's.
// - The model sees exactly what a stream_factory connection would: the same
//   greeting, commands, literals ("+" for a synchronizing one) and LOGOUT.
// - Throws std::runtime_error from the constructor if it cannot listen.
#pragma once

#include <mutex>
#include <thread>
#include <vector>

#include "support/model_server.hpp"

#include "support/loopback_acceptor.hpp"

namespace imapkeep::testing {

class ModelListener {
  public:
    explicit ModelListener(ModelServer& server);
    ModelListener(const ModelListener&) = delete;
    ModelListener& operator=(const ModelListener&) = delete;

    int port() const { return m_acceptor.port(); }

  private:
    void serve(int client);

    ModelServer& m_server;
    LoopbackAcceptor m_acceptor;  // last: its connections end before the rest goes
};

}  // namespace imapkeep::testing
