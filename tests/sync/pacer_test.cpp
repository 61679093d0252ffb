// The token bucket and the pacer's budget and back-off arithmetic.
#include <catch2/catch.hpp>

#include "support/fake_pace_clock.hpp"
#include "sync/pacer.hpp"
#include "sync/token_bucket.hpp"

using namespace imapkeep;
using namespace std::chrono_literals;

namespace {

using Clock = sync::TokenBucket::Clock;

struct Take {
    double at_seconds;
    double tokens;
    double wait_seconds;  // what take() must answer
};

struct BucketCase {
    const char* name;
    double rate, burst;
    std::vector<Take> takes;
};

const BucketCase kBuckets[] = {
    {"within the burst: no wait", 10, 10, {{0, 5, 0}, {0, 5, 0}}},
    {"past the burst: the debt's time", 10, 10, {{0, 10, 0}, {0, 5, 0.5}, {0, 5, 1.0}}},
    {"refills with time, never beyond the burst", 10, 10, {{0, 10, 0}, {100, 10, 0}, {100, 1, 0.1}}},
    {"one take larger than the burst goes through, then waits", 1, 1, {{0, 4, 3}, {3, 1, 1}}},
    {"paying the debt by waiting", 2, 1, {{0, 1, 0}, {0, 1, 0.5}, {0.5, 1, 0.5}, {1.0, 1, 0.5}}},
    {"a clock that goes back is ignored", 1, 1, {{5, 1, 0}, {4, 1, 1}}},
};

}  // namespace

TEST_CASE("token bucket: waits follow the rate and the burst", "[sync][ratelimit]") {
    for (const auto& c : kBuckets) {
        DYNAMIC_SECTION(c.name) {
            sync::TokenBucket bucket(c.rate, c.burst);
            for (const auto& t : c.takes) {
                auto at = Clock::time_point(std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(1000 + t.at_seconds)));
                double wait = std::chrono::duration<double>(bucket.take(t.tokens, at)).count();
                CHECK(wait == Approx(t.wait_seconds).margin(1e-6));
            }
        }
    }
}

TEST_CASE("pacer: the daily budget admits a prefix that fits", "[sync][budget]") {
    testing::FakePaceClock clock;
    sync::PacingLimits limits;
    limits.daily_download_bytes = 1000;
    using Wanted = std::vector<std::pair<std::uint32_t, std::uint64_t>>;

    SECTION("a prefix, then nothing once a message does not fit") {
        sync::Pacer pacer(limits, clock);
        pacer.start_day(100);
        CHECK(pacer.admit(Wanted{{1, 300}, {2, 400}, {3, 300}, {4, 50}}) == 2);
        CHECK(pacer.budget().reached);
        CHECK(pacer.budget().used == 800);
        CHECK(pacer.take_unsaved() == 700);
        CHECK(pacer.take_unsaved() == 0);
        CHECK(pacer.admit(Wanted{{9, 200}}) == 1);
        CHECK(pacer.admit(Wanted{{10, 1}}) == 0);
        CHECK(pacer.budget().used == 1000);
    }
    SECTION("a message larger than the whole budget goes alone on a fresh day") {
        sync::Pacer pacer(limits, clock);
        CHECK(pacer.admit(Wanted{{1, 5000}, {2, 1}}) == 1);
        CHECK(pacer.admit(Wanted{{3, 1}}) == 0);
        sync::Pacer tomorrow_but_used(limits, clock);
        tomorrow_but_used.start_day(1);
        CHECK(tomorrow_but_used.admit(Wanted{{1, 5000}}) == 0);
    }
    SECTION("no budget admits everything; the server's stop admits nothing") {
        limits.daily_download_bytes = 0;
        sync::Pacer pacer(limits, clock);
        CHECK(pacer.admit(Wanted{{1, 1ull << 40}, {2, 1ull << 40}}) == 2);
        CHECK_FALSE(pacer.budget().reached);
        pacer.stop_for_today("Account exceeded command or bandwidth limits.");
        CHECK(pacer.admit(Wanted{{3, 1}}) == 0);
        CHECK(pacer.budget().reached);
        CHECK(pacer.budget().reason == "Account exceeded command or bandwidth limits.");
    }
    SECTION("the budget's day is the UTC day the run started") {
        sync::Pacer pacer(limits, clock);
        CHECK(pacer.day() == clock.epoch_seconds() / 86400);
    }
}

TEST_CASE("pacer: a restore's pacer keeps the upload budget, not the download one",
          "[sync][budget]") {
    testing::FakePaceClock clock;
    sync::PacingLimits limits;
    limits.daily_download_bytes = 1'000'000;
    limits.daily_upload_bytes = 1000;
    using Wanted = std::vector<std::pair<std::uint32_t, std::uint64_t>>;
    sync::Pacer upload(limits, clock, sync::Transfer::Upload);
    CHECK(upload.has_budget());
    CHECK_FALSE(upload.spent());
    CHECK(upload.admit(Wanted{{1, 600}, {2, 600}}) == 1);
    CHECK(upload.spent());
    CHECK(upload.budget().limit == 1000);
    CHECK(upload.budget().reason == "daily_upload_mb");
    sync::Pacer used_up(limits, clock, sync::Transfer::Upload);
    used_up.start_day(1000);
    CHECK(used_up.spent());  // before anything was asked
    sync::Pacer download(limits, clock);
    CHECK(download.admit(Wanted{{1, 600}, {2, 600}}) == 2);
    CHECK(download.budget().limit == 1'000'000);
    limits.daily_upload_bytes = 0;
    sync::Pacer unlimited(limits, clock, sync::Transfer::Upload);
    CHECK_FALSE(unlimited.has_budget());
    CHECK_FALSE(unlimited.spent());
}

TEST_CASE("pacer: throttle waits are the server's, or a doubling back-off, capped", "[sync][throttle]") {
    testing::FakePaceClock clock;
    sync::PacingLimits limits;
    limits.first_backoff = 2s;
    limits.max_wait = 60s;
    sync::Pacer pacer(limits, clock);
    imap::ServerHint backoff{imap::ServerHint::Action::Wait, std::nullopt, "[UNAVAILABLE]"};
    CHECK(pacer.hint_wait(backoff, 1) == 2s);
    CHECK(pacer.hint_wait(backoff, 2) == 4s);
    CHECK(pacer.hint_wait(backoff, 5) == 32s);
    CHECK(pacer.hint_wait(backoff, 6) == 60s);
    CHECK(pacer.hint_wait(backoff, 1000) == 60s);
    imap::ServerHint o365{imap::ServerHint::Action::Wait, 5000ms, "Suggested Backoff Time: 5000 milliseconds"};
    CHECK(pacer.hint_wait(o365, 1) == 5000ms);
    CHECK(pacer.hint_wait(o365, 4) == 5000ms);
    imap::ServerHint long_one{imap::ServerHint::Action::Wait, 299961ms, "Suggested Backoff Time: 299961 milliseconds"};
    CHECK(pacer.hint_wait(long_one, 1) == 60s);
    pacer.wait(3s);
    CHECK(pacer.waits() == 1);
    CHECK(clock.slept() == 3s);
}
