#include "store/wal_checkpointer.hpp"

#include <algorithm>
#include <utility>

namespace imapkeep::store {

WalCheckpointer::WalCheckpointer(Checkpoint checkpoint) : m_checkpoint(std::move(checkpoint)) {}

WalCheckpointer::~WalCheckpointer() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

bool CheckpointSchedule::due(int frames) {
    if (m_first) {
        // What earlier runs left: a checkpoint now, while this run mostly
        // waits for the server.
        m_first = false;
        m_due_frames = frames >= kFirstFrames ? frames : kStrideFrames;
    }
    // Fewer pages than the last commit left: a checkpoint reached the end of
    // the log and writing started again at its head.
    if (frames < m_last_frames) m_due_frames = std::min(m_due_frames, kStrideFrames);
    m_last_frames = frames;
    if (frames >= m_due_frames) {
        m_due_frames = frames + kStrideFrames;
        return true;
    }
    return m_restarts_left > 0;
}

bool CheckpointSchedule::opened(std::uintmax_t log_bytes) {
    if (std::exchange(m_opened, true) || log_bytes <= kShortLogBytes) return false;
    m_restarts_left = kRestartAttempts;
    return true;
}

CheckpointMode CheckpointSchedule::next_mode() const {
    return m_restarts_left > 0 ? CheckpointMode::kRestart : CheckpointMode::kPassive;
}

void CheckpointSchedule::finished(CheckpointMode mode, bool done) {
    if (mode != CheckpointMode::kRestart || m_restarts_left == 0) return;
    m_restarts_left = done ? 0 : m_restarts_left - 1;
}

void WalCheckpointer::log_opened(std::uintmax_t log_bytes) {
    {
        std::lock_guard lock(m_mutex);
        if (!m_schedule.opened(log_bytes)) return;
    }
    request();
}

void WalCheckpointer::log_grew_to(int frames) {
    {
        std::lock_guard lock(m_mutex);
        if (!m_schedule.due(frames)) return;
    }
    request();
}

void WalCheckpointer::request() {
    {
        std::lock_guard lock(m_mutex);
        m_requested = true;
        if (!m_thread.joinable()) m_thread = std::thread([this] { run(); });
    }
    m_wake.notify_all();
}

void WalCheckpointer::wait_idle() {
    std::unique_lock lock(m_mutex);
    m_idle.wait(lock, [this] { return !m_requested && !m_running; });
}

void WalCheckpointer::run() {
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [this] { return m_requested || m_stopping; });
        if (m_stopping) return;
        m_requested = false;
        m_running = true;
        const CheckpointMode mode = m_schedule.next_mode();
        lock.unlock();
        bool done = false;
        try {
            done = m_checkpoint(mode);
        } catch (...) {
            // Nothing is lost (see the constructor); the next request retries.
        }
        lock.lock();
        m_schedule.finished(mode, done);
        m_running = false;
        if (!m_requested) m_idle.notify_all();
    }
}

}  // namespace imapkeep::store
