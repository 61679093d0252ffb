// One writer at a time per catalog file, within this process, without SQLite's
// busy handler. Backup workers each hold their own connection; when two of them
// reached BEGIN IMMEDIATE together, the loser slept in sqlite3_busy_timeout's
// back-off (1, 2, 5 ... 100 ms) however soon the lock came free: 209 sleeps,
// about 0.9 s of worker time, in a cold backup of 20k messages (issue 10). A
// mutex wakes the next writer the moment the previous one commits. Other
// processes still meet SQLite's own lock and busy timeout.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/wal_checkpointer.hpp"
#include "store/wal_group_sync.hpp"

namespace imapkeep::store {

class CatalogWriteLock {
  public:
    // The lock shared by every connection of this process to `path` (made
    // canonical, so two spellings of one file share it).
    static std::shared_ptr<CatalogWriteLock> for_file(const std::string& path);

    // Waits up to `timeout`; false when it could not get the lock. Throws
    // StoreError when this thread holds it already (through another
    // connection): waiting on itself would never end.
    bool acquire(std::chrono::milliseconds timeout);
    void release() noexcept;

    // For SQLite's busy handler of a connection that found the catalog
    // locked: when another thread of this process holds the lock, waits (up
    // to `timeout`) until it is released, so the retry comes the moment that
    // writer commits, and returns true. false at once when no other thread
    // holds it: the blocker is another process, or a write outside a
    // transaction (which takes no lock here), and only polling helps.
    bool wait_for_other_holder(std::chrono::milliseconds timeout);

    explicit CatalogWriteLock(const std::string& path);

    // The group commit of this file's write-ahead log (wal_group_sync.hpp).
    WalGroupSync& log_sync() { return m_log_sync; }
    // The checkpoints of this file's log (wal_checkpointer.hpp), through a
    // connection of their own.
    WalCheckpointer& checkpointer() { return m_checkpointer; }

  private:
    WalGroupSync m_log_sync;
    WalCheckpointer m_checkpointer;
    std::timed_mutex m_mutex;
    std::mutex m_owner_mutex;
    std::thread::id m_owner;
};

}  // namespace imapkeep::store
