// Checkpoints of the catalog's write-ahead log on a thread of their own
// (issue 10). A checkpoint copies every page the log holds into the database
// file and syncs both: about 3,000 system calls and two syncs for a run that
// changed 1% of 20,000 messages. Run inside the commit that grew the log past
// SQLite's threshold (1,000 pages), it held up that worker's mailbox, the
// longest chain of the run, and a run that did not pass the threshold left
// its pages to the next run's commits. Here:
// - the first commit of a process that finds 1,000 pages or more in the log
//   (what earlier runs left) starts a checkpoint beside the run, which at
//   that point mostly waits for the server;
// - after that, one more for every 4,000 pages the log grows (a cold
//   backup), never one for the last pages of a smaller run, which would
//   keep the process from exiting until it ends: the next run's first
//   commit finds them.
// Passive checkpoints (the only kind run here) neither wait for nor block
// the workers' connections.
//
// The log is kept when the process ends (SqliteDb::keep_log_at_close), and
// the first connection of the next process reads all of it again to rebuild
// the log's index: every page written since the log last started again at
// its head. A checkpoint alone does not start it again; a commit that
// begins once a checkpoint has copied the whole log does. So a process that
// opens a long log asks for a checkpoint at once (CheckpointSchedule::
// opened), while it connects to the server; the run's next commit then
// starts the log again and cuts the file to kShortLogBytes (PRAGMA
// journal_size_limit). The file's size is how long the log is: past
// kShortLogBytes, more pages than that were written since it started again.
// That opening checkpoint is a restart (CheckpointMode::kRestart): a passive
// one let a commit that came while it ran append to the log, so it never
// copied the whole log, nothing asked for another, and the log stayed long
// for the next process too (seen in CI on a slow disk). A restart copies
// passively first, then holds the process's writers off while it copies
// what they committed meanwhile; one that a writer or a reader kept
// from finishing is tried again after a later commit, kRestartAttempts
// times in all.
// Measured (issue 10): the run after a 1% change read a 23 MB log, 5,740
// pages, before its LOGIN, and a no-change run read 937 pages.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace imapkeep::store {

// The log's file is cut to this size when it starts again at its head, and
// a longer file asks for a checkpoint when the process opens it (above):
// reading a log this short costs the next run about half a millisecond.
inline constexpr std::uintmax_t kShortLogBytes = 1 << 20;

enum class CheckpointMode {
    // Copies what it can; neither waits for nor blocks the other connections.
    kPassive,
    // Copies passively, then holds off writers while it copies the rest, so
    // that the whole log is copied and the next commit starts it again at
    // its head. Gives up (and copies what it can) rather than wait for a
    // writer or a reader.
    kRestart,
};

// When a checkpoint is due (see above), from the page counts of the log that
// successive commits leave. Not thread-safe.
class CheckpointSchedule {
  public:
    static constexpr int kFirstFrames = 1000;
    static constexpr int kStrideFrames = 4000;
    // A reader of another process can keep the log from starting again for
    // longer than a run: its next process tries again.
    static constexpr int kRestartAttempts = 4;
    // A commit left `frames` pages in the log: true when a checkpoint is due.
    bool due(int frames);
    // A connection opened the log, `log_bytes` long: true for the first
    // opening of a long one, whose checkpoint is a restart.
    bool opened(std::uintmax_t log_bytes);
    // The mode of the checkpoint that runs next.
    CheckpointMode next_mode() const;
    // A checkpoint in `mode` ended; `done`: it did what the mode asks.
    void finished(CheckpointMode mode, bool done);

  private:
    int m_restarts_left = 0;  // > 0: a restart is wanted
    bool m_opened = false;
    bool m_first = true;
    int m_due_frames = kStrideFrames;
    int m_last_frames = 0;
};

class WalCheckpointer {
  public:
    // `checkpoint` runs one checkpoint in the mode given and returns true
    // when it did what the mode asks (CheckpointMode); it runs on the
    // checkpointer's thread only, one at a time. What it throws is dropped:
    // the log keeps every committed page, and a later request tries again.
    using Checkpoint = std::function<bool(CheckpointMode)>;
    explicit WalCheckpointer(Checkpoint checkpoint);
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;
    // Waits for a running checkpoint. One requested but not yet begun is
    // dropped: the log still holds its pages, and the next process's first
    // commit asks for it again.
    ~WalCheckpointer();

    // A commit left `frames` pages in the log (SQLite's WAL hook): asks for a
    // checkpoint when one is due (see above). Returns at once.
    void log_grew_to(int frames);
    // A connection of this process opened the log, whose file is
    // `log_bytes` long: asks for a checkpoint when it is the first and the
    // log is long (see above). Returns at once.
    void log_opened(std::uintmax_t log_bytes);
    // Asks for a checkpoint and returns at once. Requests made while one runs
    // make one more after it, not one each. Starts the thread on first use.
    void request();
    // Returns once no checkpoint runs or waits to run (for tests: what one
    // attempt left).
    void wait_idle();

  private:
    void run();

    Checkpoint m_checkpoint;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_idle;
    CheckpointSchedule m_schedule;
    bool m_requested = false;
    bool m_running = false;
    bool m_stopping = false;
    std::thread m_thread;
};

}  // namespace imapkeep::store
