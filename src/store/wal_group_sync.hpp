// Group commit for the catalog's write-ahead log (issue 10). Every
// connection of this process to one catalog shares one of these. A commit
// writes its frames to the log without a sync (PRAGMA synchronous = NORMAL)
// and takes a ticket; it is durable once a sync of the log that began after
// its ticket has finished. One fdatasync of the log (the same file for every
// connection) then serves every commit that reached it first: workers that
// commit together wait for one sync, not one each in turn, and none holds
// the catalog's write lock while the disk works.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace imapkeep::store {

class WalGroupSync {
  public:
    // Called once a commit's frames are in the log (SQLite's WAL hook).
    std::uint64_t committed();
    // Returns once every commit up to `ticket` is durable. When no sync is
    // running, this thread runs `sync_log` (one sync of the log) for every
    // ticket issued so far; else it waits for the running one, and runs the
    // next if that began before its ticket. Throws what `sync_log` threw;
    // the commits it covered stay undurable, and the next caller syncs again.
    void durable_through(std::uint64_t ticket, const std::function<void()>& sync_log);

  private:
    std::mutex m_mutex;
    std::condition_variable m_synced_changed;
    std::uint64_t m_issued = 0;
    std::uint64_t m_synced = 0;
    bool m_syncing = false;
};

}  // namespace imapkeep::store
