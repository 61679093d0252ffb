// Keeps a lease alive while its account is backed up: a thread renews it
// every `period` (a third of the lease's duration is the usual choice) on a
// connection of its own, so a backup that holds its catalog connection in a
// long transaction never lets the lease lapse.
//
// When the lease is lost (renew() answers false: it expired and another
// worker took it, or the account was removed) or cannot be renewed before it
// would expire (the database unreachable), the heartbeat sets `lost`, once,
// and stops renewing: the caller's backup must stop at its next durable
// boundary (sync::BackupOptions::stop), since another worker may now be
// writing the same account.
//
// The destructor stops the thread (within about 50 ms) and joins it. `db`
// is used by the heartbeat's thread only, while it lives.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <imapkeep/fleet/lease.hpp>
#include <mutex>
#include <thread>

namespace imapkeep::fleet {

class Heartbeat {
  public:
    Heartbeat(FleetDb& db, Lease lease, std::chrono::milliseconds duration,
              std::chrono::milliseconds period, std::atomic<bool>& lost);
    ~Heartbeat();
    Heartbeat(const Heartbeat&) = delete;
    Heartbeat& operator=(const Heartbeat&) = delete;

    // Renewals that succeeded so far.
    std::uint64_t renewals() const { return m_renewals.load(); }

  private:
    void run();
    bool wait_period();

    FleetDb& m_db;
    Lease m_lease;
    std::chrono::milliseconds m_duration;
    std::chrono::milliseconds m_period;
    std::atomic<bool>& m_lost;
    std::atomic<std::uint64_t> m_renewals{0};
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_done = false;
    std::thread m_thread;
};

}  // namespace imapkeep::fleet
