#include "store/wal_group_sync.hpp"

#include <algorithm>

namespace imapkeep::store {

std::uint64_t WalGroupSync::committed() {
    std::lock_guard lock(m_mutex);
    return ++m_issued;
}

void WalGroupSync::durable_through(std::uint64_t ticket, const std::function<void()>& sync_log) {
    std::unique_lock lock(m_mutex);
    while (m_synced < ticket) {
        if (m_syncing) {
            m_synced_changed.wait(lock);
            continue;
        }
        // Every ticket issued so far has its frames written: this sync covers them.
        const std::uint64_t covers = m_issued;
        m_syncing = true;
        lock.unlock();
        try {
            sync_log();
        } catch (...) {
            lock.lock();
            m_syncing = false;
            m_synced_changed.notify_all();
            throw;
        }
        lock.lock();
        m_syncing = false;
        m_synced = std::max(m_synced, covers);
        m_synced_changed.notify_all();
    }
}

}  // namespace imapkeep::store
