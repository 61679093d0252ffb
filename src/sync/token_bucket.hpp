// A token bucket (issue 12 rate limits): `rate` tokens a second, at most
// `burst` saved up. take() never refuses: it takes what is asked, going into
// debt, and says how long the caller must wait for the debt to be paid. So a
// message larger than the burst still goes through, and the average rate
// holds over any stretch of time longer than one wait.
#pragma once

#include <chrono>
#include <optional>

namespace imapkeep::sync {

class TokenBucket {
public:
    using Clock = std::chrono::steady_clock;

    // rate > 0 and burst > 0. The bucket starts full.
    TokenBucket(double rate, double burst);

    // Takes `n` tokens at `now`; returns the wait before the balance is back
    // at zero (zero when it did not go below). Not thread-safe.
    Clock::duration take(double n, Clock::time_point now);

    double balance() const { return m_tokens; }

private:
    void refill(Clock::time_point now);

    double m_rate;
    double m_burst;
    double m_tokens;
    std::optional<Clock::time_point> m_last;
};

}  // namespace imapkeep::sync
