// Leases on fleet accounts (fleet/lease.hpp), against the real PostgreSQL:
// claimers in parallel never share an account, an expired lease is taken
// over, a renewed one is not, and a release sets the next due time.
#include <catch2/catch.hpp>
#include <chrono>
#include <imapkeep/fleet/heartbeat.hpp>
#include <imapkeep/fleet/lease.hpp>
#include <map>
#include <mutex>
#include <thread>

#include "fleet_fixture.hpp"

using namespace imapkeep::fleet;
using imapkeep::test::FleetFixture;
using namespace std::chrono_literals;

TEST_CASE("claimers in parallel never get the same account", "[fleet][lease]") {
    FleetFixture f;
    if (!f.backend) return;
    constexpr int kAccounts = 40;
    f.add_accounts(kAccounts);
    std::mutex mutex;
    std::map<std::string, int> claims;
    std::vector<std::string> errors;
    std::vector<std::thread> claimers;
    for (int t = 0; t < 4; ++t)
        claimers.emplace_back([&] {
            try {
                auto db = f.connect();
                Leases leases(*db);
                const auto owner = new_lease_owner();
                while (auto lease = leases.claim(owner, 60s)) {
                    std::lock_guard lock(mutex);
                    ++claims[lease->account.name];
                }
            } catch (const std::exception& e) {
                std::lock_guard lock(mutex);
                errors.push_back(e.what());
            }
        });
    for (auto& t : claimers) t.join();
    CHECK(errors.empty());
    CHECK(claims.size() == kAccounts);
    for (const auto& [name, count] : claims) {
        INFO(name);
        CHECK(count == 1);
    }
}

TEST_CASE("an expired lease is taken over, and its old holder can neither renew nor release it",
          "[fleet][lease]") {
    FleetFixture f;
    if (!f.backend) return;
    f.add_accounts(1);
    auto db_a = f.connect();
    auto db_b = f.connect();
    Leases a(*db_a), b(*db_b);
    auto first = a.claim("worker-a", 1000ms);
    REQUIRE(first);
    CHECK_FALSE(b.claim("worker-b", 1000ms));  // held
    std::this_thread::sleep_for(1200ms);
    auto second = b.claim("worker-b", 60s);
    REQUIRE(second);
    CHECK(second->account.name == first->account.name);
    CHECK(second->generation == first->generation + 1);
    CHECK_FALSE(a.renew(*first, 60s));
    CHECK_FALSE(a.release(*first, RunOutcome{0, "ok", "", false}));
    auto row = AccountRegistry(*db_b).find(first->account.name);
    REQUIRE(row);
    CHECK(row->lease_owner == std::optional<std::string>("worker-b"));
}

TEST_CASE("a lease its heartbeat renews is not taken over", "[fleet][lease]") {
    FleetFixture f;
    if (!f.backend) return;
    f.add_accounts(1);
    auto db_a = f.connect();
    auto beat_db = f.connect();
    auto db_b = f.connect();
    Leases a(*db_a), b(*db_b);
    auto lease = a.claim("worker-a", 600ms);
    REQUIRE(lease);
    std::atomic<bool> lost{false};
    {
        // Three times the lease: without the renewals it would have expired.
        Heartbeat heartbeat(*beat_db, *lease, 600ms, 100ms, lost);
        for (int i = 0; i < 18; ++i) {
            std::this_thread::sleep_for(100ms);
            CHECK_FALSE(b.claim("worker-b", 600ms));
        }
        CHECK(heartbeat.renewals() >= 5);
    }
    CHECK_FALSE(lost);
    CHECK(a.release(*lease, RunOutcome{0, "ok", "", false}));
}

TEST_CASE("a heartbeat that finds its lease taken over says it is lost", "[fleet][lease]") {
    FleetFixture f;
    if (!f.backend) return;
    f.add_accounts(1);
    auto db_a = f.connect();
    auto beat_db = f.connect();
    auto db_b = f.connect();
    Leases a(*db_a), b(*db_b);
    auto lease = a.claim("worker-a", 200ms);
    REQUIRE(lease);
    std::atomic<bool> lost{false};
    // Renewing too late: the lease expires between two beats.
    Heartbeat heartbeat(*beat_db, *lease, 200ms, 600ms, lost);
    std::this_thread::sleep_for(300ms);
    REQUIRE(b.claim("worker-b", 60s));
    for (int i = 0; i < 50 && !lost; ++i) std::this_thread::sleep_for(50ms);
    CHECK(lost);
    CHECK(heartbeat.renewals() == 0);
}

TEST_CASE("a released account is due again after its interval, or at once when interrupted",
          "[fleet][lease]") {
    FleetFixture f;
    if (!f.backend) return;
    f.add_accounts(1);
    auto db = f.connect();
    Leases leases(*db);
    auto lease = leases.claim("w", 60s);
    REQUIRE(lease);
    REQUIRE(leases.release(*lease, RunOutcome{143, "interrupted", "", true}));
    auto again = leases.claim("w", 60s);
    REQUIRE(again);  // due now: the next worker resumes it
    REQUIRE(leases.release(*again, RunOutcome{1, "partial", "INBOX: NO [SERVERBUG]", false}));
    CHECK_FALSE(leases.claim("w", 60s));  // an hour from now
    auto row = AccountRegistry(*db).find(lease->account.name);
    REQUIRE(row);
    CHECK_FALSE(row->lease_owner);
    CHECK(row->last_exit_code == std::optional<int>(1));
    CHECK(row->last_status == "partial");
    CHECK(row->last_error == "INBOX: NO [SERVERBUG]");
    CHECK(row->next_due_ms - *row->last_finished_ms == row->interval_ms);
}
