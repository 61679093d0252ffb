// The write-ahead log's checkpoint at the start of a process, on a thread of
// its own (issue 10). The log is kept across runs (SqliteDb::
// keep_log_at_close), so the frames a run writes wait for the next
// checkpoint; made at a commit (SqliteDb's threshold of 1,000 frames), it
// lands in a worker's commit, on the run's critical path: about 1,100 pages
// read from the log and written to the database, then an fsync, in a 1%
// changed run of 20k messages. Started when a process first opens the
// catalog, it runs while the process connects and logs in, which is waiting
// for the server. SQLITE_CHECKPOINT_PASSIVE: it neither waits for nor blocks
// the run's readers and writers; what a reader still needs is left for the
// next checkpoint.
#pragma once

#include <mutex>
#include <string>
#include <thread>

namespace imapkeep::store {

class LogCheckpointer {
  public:
    LogCheckpointer() = default;
    LogCheckpointer(const LogCheckpointer&) = delete;
    LogCheckpointer& operator=(const LogCheckpointer&) = delete;
    // Waits for the checkpoint to end: its connection never outlives the
    // process's last catalog connection to the file.
    ~LogCheckpointer();

    // The first call starts the checkpoint of the catalog at `path` on its own
    // connection; later calls do nothing. A checkpoint that fails (a full
    // disk, a file gone) is given up quietly: the log still holds every
    // commit, and the next one tries again.
    void start_once(const std::string& path);

  private:
    std::once_flag m_started;
    std::thread m_thread;
};

}  // namespace imapkeep::store
