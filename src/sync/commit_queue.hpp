// Chunk commits on a second thread (issue 10, "fetching and writing overlap").
// While one chunk becomes durable (syncfs, renames, directory fsync, catalog
// commit: mostly waiting for the disk), the mailbox's thread goes on reading
// the next chunk's bodies from the socket. Commits still run one at a time and
// in the order submitted, so the high-water mark moves exactly as before
// (DESIGN.md invariants 1 and 2).
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace imapkeep::sync {

class CommitQueue {
  public:
    // At most `max_waiting` jobs wait behind the one running: submit() blocks
    // past that, so a slow disk slows the reading instead of piling up files.
    explicit CommitQueue(std::size_t max_waiting = 1);
    // Drops the jobs still waiting and waits for the running one: a commit is
    // never cut in half, and nothing of the caller's frame is used after.
    ~CommitQueue();
    CommitQueue(const CommitQueue&) = delete;
    CommitQueue& operator=(const CommitQueue&) = delete;

    // Queues `job`. Throws what an earlier job threw (after which no further
    // job runs): the caller learns of a failed commit at its next chunk.
    void submit(std::function<void()> job);
    // Waits until every queued job ran; throws the first job's exception.
    void finish();

  private:
    void run();
    static std::exception_ptr run_one(std::function<void()> job);
    void rethrow_failure();  // m_mutex held

    std::size_t m_max_waiting;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<std::function<void()>> m_jobs;
    bool m_running = false;  // a job is being run (outside the lock)
    bool m_closing = false;
    std::exception_ptr m_failure;
    std::thread m_thread;  // last: starts once the members above exist
};

}  // namespace imapkeep::sync
