#include "sync/token_bucket.hpp"

#include <algorithm>

namespace imapkeep::sync {

TokenBucket::TokenBucket(double rate, double burst) : m_rate(rate), m_burst(burst), m_tokens(burst) {}

void TokenBucket::refill(Clock::time_point now) {
    if (m_last && now > *m_last) {
        const double seconds = std::chrono::duration<double>(now - *m_last).count();
        m_tokens = std::min(m_burst, m_tokens + seconds * m_rate);
    }
    if (!m_last || now > *m_last) m_last = now;
}

TokenBucket::Clock::duration TokenBucket::take(double n, Clock::time_point now) {
    refill(now);
    m_tokens -= n;
    if (m_tokens >= 0) return Clock::duration::zero();
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(-m_tokens / m_rate));
}

}  // namespace imapkeep::sync
