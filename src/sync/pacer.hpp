// One account run's pacing (issue 12), shared by its parallel workers:
// the rate limits (token buckets), the daily download budget, and the waits
// a throttling server asks for. Thread-safe. Private to the sync layer.
#pragma once

#include <imapkeep/imap/server_hint.hpp>
#include <imapkeep/sync/pacing.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sync/token_bucket.hpp"

namespace imapkeep::sync {

// The real clock. sleep() goes in slices and returns early once `*stop` is
// raised (may be null), so Ctrl-C is never held up by a long back-off.
class SystemPaceClock : public PaceClock {
public:
    explicit SystemPaceClock(const std::atomic<bool>* stop) : m_stop(stop) {}
    std::chrono::steady_clock::time_point now() override;
    void sleep(std::chrono::milliseconds delay) override;
    std::int64_t epoch_seconds() override;

private:
    const std::atomic<bool>* m_stop;
};

// Which way a run moves messages, so which daily budget its Pacer keeps:
// a backup's downloads (PacingLimits::daily_download_bytes) or a restore's
// uploads (daily_upload_bytes).
enum class Transfer { Download, Upload };

class Pacer {
public:
    Pacer(const PacingLimits& limits, PaceClock& clock, Transfer transfer = Transfer::Download);

    const PacingLimits& limits() const { return m_limits; }
    PaceClock& clock() { return m_clock; }

    // --- Rate limits: each call sleeps until the limits allow what it counts.
    bool limits_bytes() const { return m_bytes.has_value(); }
    void count_bytes(std::size_t bytes);
    void count_message();

    // --- The daily budget (a UTC day, fixed when the run starts)
    bool has_budget() const { return m_daily_limit != 0; }
    std::int64_t day() const { return m_day; }
    // The day's usage before this run (from the catalog).
    void start_day(std::uint64_t used_today);
    // How many of `wanted` (uid, size; in UID order) fit what is left of
    // today's budget: a prefix, since a mailbox's mark cannot pass a message
    // left for later. Those are counted as used. A message larger than the
    // whole budget is admitted alone on a day nothing was used yet, or it
    // would never be. Nothing is admitted after stop_for_today().
    std::size_t admit(const std::vector<std::pair<std::uint32_t, std::uint64_t>>& wanted);
    // Nothing more is admitted today: admit() refused something, or
    // stop_for_today(), or the day's usage is at the budget already.
    bool spent() const;
    // The server's daily limit was hit (ServerHint::Action::StopForToday).
    void stop_for_today(const std::string& reason);
    // Admitted usage not saved in the catalog yet: take it to save it, and
    // put_back() what a rolled-back transaction did not save.
    std::uint64_t take_unsaved();
    void put_back(std::uint64_t bytes);

    struct Budget {
        bool reached = false;    // something was left for a later run
        std::string reason;      // "daily_download_mb" (or "daily_upload_mb") or the server's words
        std::uint64_t used = 0;  // today, this run included
        std::uint64_t limit = 0; // 0 = no budget
    };
    Budget budget() const;

    // --- Throttling servers
    // The wait before retry number `attempt` (1-based) after `hint`: the
    // server's own delay, else first_backoff doubled each time; at most max_wait.
    std::chrono::milliseconds hint_wait(const imap::ServerHint& hint, int attempt) const;
    // Sleeps a throttle wait, and counts it.
    void wait(std::chrono::milliseconds delay);
    std::uint64_t waits() const { return m_waits.load(); }

private:
    void sleep_for(TokenBucket::Clock::duration delay);

    PacingLimits m_limits;
    PaceClock& m_clock;
    std::uint64_t m_daily_limit;  // the budget of this run's transfer; 0 = none
    const char* m_budget_key;     // its config key, the reason it gives
    mutable std::mutex m_mutex;
    std::optional<TokenBucket> m_bytes;
    std::optional<TokenBucket> m_messages;
    std::int64_t m_day = 0;
    std::uint64_t m_used = 0;
    std::uint64_t m_unsaved = 0;
    bool m_reached = false;
    bool m_stopped = false;
    std::string m_reason;
    std::atomic<std::uint64_t> m_waits{0};
};

}  // namespace imapkeep::sync
