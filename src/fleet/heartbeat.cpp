#include <imapkeep/fleet/heartbeat.hpp>

namespace imapkeep::fleet {

Heartbeat::Heartbeat(FleetDb& db, Lease lease, std::chrono::milliseconds duration,
                     std::chrono::milliseconds period, std::atomic<bool>& lost)
    : m_db(db),
      m_lease(std::move(lease)),
      m_duration(duration),
      m_period(period),
      m_lost(lost),
      m_thread([this] { run(); }) {}

Heartbeat::~Heartbeat() {
    {
        std::lock_guard lock(m_mutex);
        m_done = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

// False once the destructor asked the thread to end.
bool Heartbeat::wait_period() {
    std::unique_lock lock(m_mutex);
    return !m_wake.wait_for(lock, m_period, [this] { return m_done; });
}

void Heartbeat::run() {
    Leases leases(m_db);
    // Measured on our clock: without a renewal for this long, the lease may
    // have expired on the server's, and another worker may hold it.
    auto held_until = std::chrono::steady_clock::now() + m_duration;
    while (wait_period()) {
        const auto asked_at = std::chrono::steady_clock::now();
        try {
            if (!leases.renew(m_lease, m_duration)) {
                m_lost = true;
                return;
            }
            held_until = asked_at + m_duration;
            ++m_renewals;
        } catch (const std::exception&) {
            // The database is unreachable for now: try again next period,
            // unless the lease may already be gone.
            if (std::chrono::steady_clock::now() >= held_until) {
                m_lost = true;
                return;
            }
        }
    }
}

}  // namespace imapkeep::fleet
