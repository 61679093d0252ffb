#include "sync/pacer.hpp"

#include <algorithm>
#include <ctime>
#include <thread>

namespace imapkeep::sync {

namespace {

constexpr std::int64_t kSecondsPerDay = 24 * 3600;
// One second's worth may come at once; a smaller burst would stall reads of
// 64 KiB (the client's buffer) at low byte rates for no gain in the average.
constexpr double kMinByteBurst = 64 * 1024;

}  // namespace

std::chrono::steady_clock::time_point SystemPaceClock::now() { return std::chrono::steady_clock::now(); }

void SystemPaceClock::sleep(std::chrono::milliseconds delay) {
    constexpr auto kSlice = std::chrono::milliseconds(100);
    const auto until = std::chrono::steady_clock::now() + delay;
    while (std::chrono::steady_clock::now() < until) {
        if (m_stop && m_stop->load()) return;
        std::this_thread::sleep_for(
            std::min<std::chrono::steady_clock::duration>(kSlice, until - std::chrono::steady_clock::now()));
    }
}

std::int64_t SystemPaceClock::epoch_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

Pacer::Pacer(const PacingLimits& limits, PaceClock& clock, Transfer transfer)
    : m_limits(limits), m_clock(clock),
      m_daily_limit(transfer == Transfer::Upload ? limits.daily_upload_bytes : limits.daily_download_bytes),
      m_budget_key(transfer == Transfer::Upload ? "daily_upload_mb" : "daily_download_mb") {
    if (limits.max_bytes_per_second > 0)
        m_bytes.emplace(limits.max_bytes_per_second, std::max(limits.max_bytes_per_second, kMinByteBurst));
    if (limits.max_messages_per_second > 0)
        m_messages.emplace(limits.max_messages_per_second, std::max(limits.max_messages_per_second, 1.0));
    m_day = m_clock.epoch_seconds() / kSecondsPerDay;
}

void Pacer::sleep_for(TokenBucket::Clock::duration delay) {
    if (delay <= TokenBucket::Clock::duration::zero()) return;
    // Rounded up: a wait cut to 0 ms would let a low rate run free.
    m_clock.sleep(std::chrono::ceil<std::chrono::milliseconds>(delay));
}

void Pacer::count_bytes(std::size_t bytes) {
    if (!m_bytes || bytes == 0) return;
    TokenBucket::Clock::duration delay;
    {
        std::lock_guard lock(m_mutex);
        delay = m_bytes->take(static_cast<double>(bytes), m_clock.now());
    }
    sleep_for(delay);
}

void Pacer::count_message() {
    if (!m_messages) return;
    TokenBucket::Clock::duration delay;
    {
        std::lock_guard lock(m_mutex);
        delay = m_messages->take(1, m_clock.now());
    }
    sleep_for(delay);
}

void Pacer::start_day(std::uint64_t used_today) {
    std::lock_guard lock(m_mutex);
    m_used = used_today;
}

std::size_t Pacer::admit(const std::vector<std::pair<std::uint32_t, std::uint64_t>>& wanted) {
    std::lock_guard lock(m_mutex);
    if (m_stopped) {
        if (!wanted.empty()) m_reached = true;
        return 0;
    }
    if (!has_budget()) return wanted.size();
    const std::uint64_t limit = m_daily_limit;
    std::size_t admitted = 0;
    std::uint64_t added = 0;
    for (const auto& [uid, size] : wanted) {
        const bool fits = m_used + added + size <= limit;
        const bool alone_on_a_fresh_day = m_used + added == 0;
        if (!fits && !alone_on_a_fresh_day) break;
        added += size;
        ++admitted;
    }
    m_used += added;
    m_unsaved += added;
    if (admitted < wanted.size()) {
        m_reached = true;
        if (m_reason.empty()) m_reason = m_budget_key;
    }
    return admitted;
}

bool Pacer::spent() const {
    std::lock_guard lock(m_mutex);
    return m_stopped || m_reached || (m_daily_limit != 0 && m_used >= m_daily_limit);
}

void Pacer::stop_for_today(const std::string& reason) {
    std::lock_guard lock(m_mutex);
    m_stopped = true;
    m_reached = true;
    m_reason = reason;
}

std::uint64_t Pacer::take_unsaved() {
    std::lock_guard lock(m_mutex);
    return std::exchange(m_unsaved, 0);
}

void Pacer::put_back(std::uint64_t bytes) {
    std::lock_guard lock(m_mutex);
    m_unsaved += bytes;
}

Pacer::Budget Pacer::budget() const {
    std::lock_guard lock(m_mutex);
    return Budget{m_reached, m_reason, m_used, m_daily_limit};
}

std::chrono::milliseconds Pacer::hint_wait(const imap::ServerHint& hint, int attempt) const {
    std::chrono::milliseconds wait = m_limits.first_backoff;
    if (hint.delay) {
        wait = *hint.delay;
    } else {
        for (int i = 1; i < attempt && wait < m_limits.max_wait; ++i) wait *= 2;
    }
    return std::min(wait, m_limits.max_wait);
}

void Pacer::wait(std::chrono::milliseconds delay) {
    ++m_waits;
    m_clock.sleep(delay);
}

}  // namespace imapkeep::sync
