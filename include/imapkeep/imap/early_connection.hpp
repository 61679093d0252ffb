// The byte stream of a run's first connection, opened on a thread of its own
// while the caller does other work (issue 10: `imapkeep backup` opens its
// store meanwhile). The server's greeting then waits in the socket instead of
// the run waiting for it: Dovecot spends 5-10 ms, an SSH handshake far more,
// before the first byte.
//
// Contract:
// - The constructor starts the thread; it opens the transport exactly as
//   connect_and_login would (TCP, a local command, SSH; before any TLS, byte
//   pacing or IMAP). It never throws for the connection: a failure is kept
//   quiet, and take() then returns nullptr, so the caller opens its own and
//   meets the error (and its retries) where it always did.
// - take() hands the stream over once, when it opened within `fresh` of the
//   call (an older one may have met the server's login timeout); else, and
//   on every later call, nullptr. It waits for the thread first.
// - The destructor waits for the thread and closes a stream never taken.
// - Thread-safe: take() may be called from any thread.
#pragma once

#include <imapkeep/imap/connect.hpp>

#include <chrono>
#include <future>
#include <mutex>

namespace imapkeep::imap {

class EarlyConnection {
  public:
    explicit EarlyConnection(ConnectOptions options,
                             std::chrono::milliseconds fresh = std::chrono::seconds(5));
    ~EarlyConnection();
    EarlyConnection(const EarlyConnection&) = delete;
    EarlyConnection& operator=(const EarlyConnection&) = delete;

    transport::StreamPtr take();

  private:
    struct Opened {
        transport::StreamPtr stream;  // null: it failed
        std::chrono::steady_clock::time_point at;
    };

    std::chrono::milliseconds m_fresh;
    std::mutex m_mutex;
    bool m_taken = false;
    std::future<Opened> m_opened;
};

}  // namespace imapkeep::imap
