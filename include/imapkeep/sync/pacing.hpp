// Pacing a backup (and a restore) to what the provider allows (issue 12
// "Throttling and pacing"): rate limits, daily download and upload budgets
// carried across runs, and how long to wait when a server says it is
// throttling (imap/server_hint.hpp).
#pragma once

#include <chrono>
#include <cstdint>

namespace imapkeep::sync {

struct PacingLimits {
    // 0 = no limit. Bytes count everything read from the server; messages
    // count message bodies received. A restore to the account counts the
    // message bytes it sends and its APPENDs.
    double max_bytes_per_second = 0;
    double max_messages_per_second = 0;
    // 0 = no budget. The bytes of message bodies (RFC822.SIZE) one account
    // may download per UTC day, across runs (the catalog keeps the day's
    // total). Once it is spent the run still syncs flags and expunges, lists
    // what is left, and stops with AccountReport::budget_reached.
    std::uint64_t daily_download_bytes = 0;
    // 0 = no budget. The bytes of messages a restore may APPEND to the
    // account per UTC day, across runs (the catalog keeps the day's total
    // beside the download's). Once it is spent the restore stops between
    // APPENDs, counts what is left, and reports RestoreReport::budget_reached.
    std::uint64_t daily_upload_bytes = 0;
    // Waits on a throttling server per mailbox (and per connection attempt)
    // before the mailbox counts as failed.
    int throttle_retries = 8;
    // The first back-off when the server names no wait; doubled each time.
    std::chrono::milliseconds first_backoff{2000};
    // No single wait is longer, whatever the server suggests.
    std::chrono::milliseconds max_wait{15 * 60 * 1000};
};

// Time for pacing: the real clock, or a test's (whose sleep just advances it).
class PaceClock {
public:
    virtual ~PaceClock() = default;
    virtual std::chrono::steady_clock::time_point now() = 0;
    // Sleeps `delay`. May return early when the run is asked to stop; the
    // engine then stops at its next durable boundary.
    virtual void sleep(std::chrono::milliseconds delay) = 0;
    // Seconds since the epoch: which UTC day the budget counts.
    virtual std::int64_t epoch_seconds() = 0;
};

}  // namespace imapkeep::sync
