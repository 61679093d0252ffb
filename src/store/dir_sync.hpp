// Directory fsyncs shared by the workers of one MessageStore (invariant 8:
// durability is per batch, whichever thread issued the fsyncs).
//
// Workers mark the directories their renames touched; sync() makes every
// directory marked before it was called durable. A pass takes the marked set
// and fsyncs it outside the lock, so a second worker calling sync() meanwhile
// may find nothing left to take: it must still wait for the passes already in
// flight, which hold its directories, before its catalog commit may follow.
// A pass that fails puts its directories back, and a worker that waited on it
// takes them over.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>

namespace imapkeep::store {

class DirSync {
  public:
    void mark(const std::string& dir);
    // Calls `fsync_dir` for each marked directory and returns once every
    // directory marked before the call is durable. Throws what `fsync_dir`
    // throws; the directories it did not finish stay marked.
    void sync(const std::function<void(const std::string&)>& fsync_dir);

  private:
    // One pass: the directories it took, fsynced. Returns the passes that were
    // in flight when it started.
    std::set<std::uint64_t> run_pass(const std::function<void(const std::string&)>& fsync_dir);
    // Waits for `passes`; true if all of them succeeded.
    bool wait_for(const std::set<std::uint64_t>& passes);

    std::mutex m_mutex;
    std::condition_variable m_done;
    std::set<std::string> m_dirty;
    std::uint64_t m_next_pass = 0;
    std::set<std::uint64_t> m_in_flight;
    std::set<std::uint64_t> m_failed;  // rare, and a few bytes each
};

}  // namespace imapkeep::store
