// A pacing clock for tests (sync/pacing.hpp): sleep() costs no real time, it
// moves the clock on and adds up what was slept, so a test can run a day's
// budget or a five-minute back-off in microseconds and check the waits.
#pragma once

#include <imapkeep/sync/pacing.hpp>

#include <mutex>
#include <vector>

namespace imapkeep::testing {

class FakePaceClock : public sync::PaceClock {
public:
    explicit FakePaceClock(std::int64_t epoch_seconds = 1'699'920'000) : m_epoch_ms(epoch_seconds * 1000) {}

    std::chrono::steady_clock::time_point now() override {
        std::lock_guard lock(m_mutex);
        return std::chrono::steady_clock::time_point(m_elapsed);
    }
    void sleep(std::chrono::milliseconds delay) override {
        std::lock_guard lock(m_mutex);
        m_elapsed += delay;
        m_epoch_ms += delay.count();
        m_sleeps.push_back(delay);
    }
    std::int64_t epoch_seconds() override {
        std::lock_guard lock(m_mutex);
        return m_epoch_ms / 1000;
    }
    // The next day, as a cron run tomorrow would see it.
    void next_day() {
        std::lock_guard lock(m_mutex);
        m_epoch_ms += 24ll * 3600 * 1000;
        m_elapsed += std::chrono::hours(24);
    }
    std::chrono::milliseconds slept() const {
        std::lock_guard lock(m_mutex);
        std::chrono::milliseconds total{0};
        for (auto d : m_sleeps) total += d;
        return total;
    }
    std::vector<std::chrono::milliseconds> sleeps() const {
        std::lock_guard lock(m_mutex);
        return m_sleeps;
    }
    void clear() {
        std::lock_guard lock(m_mutex);
        m_sleeps.clear();
    }

private:
    mutable std::mutex m_mutex;
    std::chrono::milliseconds m_elapsed{0};
    std::int64_t m_epoch_ms;
    std::vector<std::chrono::milliseconds> m_sleeps;
};

}  // namespace imapkeep::testing
