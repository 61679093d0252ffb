#include "sync/commit_queue.hpp"

namespace imapkeep::sync {

CommitQueue::CommitQueue(std::size_t max_waiting)
    : m_max_waiting(max_waiting), m_thread([this] { run(); }) {}

CommitQueue::~CommitQueue() {
    {
        std::lock_guard lock(m_mutex);
        m_closing = true;
        m_jobs.clear();
    }
    m_changed.notify_all();
    m_thread.join();
}

void CommitQueue::submit(std::function<void()> job) {
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [&] { return m_failure || m_jobs.size() < m_max_waiting; });
    rethrow_failure();
    m_jobs.push_back(std::move(job));
    lock.unlock();
    m_changed.notify_all();
}

void CommitQueue::finish() {
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [&] { return m_failure || (m_jobs.empty() && !m_running); });
    rethrow_failure();
}

void CommitQueue::rethrow_failure() {
    if (m_failure) std::rethrow_exception(m_failure);
}

// The job's captures are released here, outside the lock.
std::exception_ptr CommitQueue::run_one(std::function<void()> job) {
    try {
        job();
    } catch (...) {
        return std::current_exception();
    }
    return nullptr;
}

void CommitQueue::run() {
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_changed.wait(lock, [&] { return m_closing || (!m_jobs.empty() && !m_failure); });
        if (m_closing) return;
        auto job = std::move(m_jobs.front());
        m_jobs.pop_front();
        m_running = true;
        lock.unlock();
        const std::exception_ptr failure = run_one(std::move(job));
        lock.lock();
        m_running = false;
        if (failure) {
            m_failure = failure;
            m_jobs.clear();
        }
        m_changed.notify_all();
    }
}

}  // namespace imapkeep::sync
