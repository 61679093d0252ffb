// The write fence (postgres_catalog.hpp "Write fence"), against the real
// PostgreSQL: a worker whose lease expired and was taken over by another
// commits nothing more to the catalog, in a transaction or outside one, and
// learns it (LeaseLost, on_lost); one whose lease holds writes as usual.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <imapkeep/fleet/lease.hpp>
#include <imapkeep/store/postgres_catalog.hpp>
#include <optional>
#include <thread>

#include "fleet_fixture.hpp"

using namespace imapkeep;
using imapkeep::test::FleetFixture;
using namespace std::chrono_literals;

namespace {

struct FenceFixture : FleetFixture {
    std::atomic<int> lost_calls{0};

    std::unique_ptr<store::Catalog> open(const std::optional<fleet::Lease>& lease,
                                         std::chrono::milliseconds idle_in_transaction = 0ms) {
        store::PostgresCatalogOptions options;
        options.conninfo = backend->conninfo();
        options.schema = backend->schema();
        options.serialize_writers = false;  // as a worker's
        if (lease)
            options.fence =
                store::PostgresWriteFence{lease->account.name, lease->owner, lease->generation,
                                          [this] { ++lost_calls; }, idle_in_transaction};
        return store::open_postgres_catalog(options);
    }
};

store::Id save_inbox(store::Catalog& catalog, store::Id account) {
    store::MailboxRecord m;
    m.account_id = account;
    m.name = "INBOX";
    m.delimiter = "/";
    m.uidvalidity = 7;
    return catalog.save_mailbox(m);
}

store::MessageRecord message(store::Id mailbox, std::uint32_t uid) {
    store::MessageRecord m;
    m.mailbox_id = mailbox;
    m.uidvalidity = 7;
    m.uid = uid;
    m.internaldate = 1'600'000'000 + uid;
    m.size = 100 + uid;
    m.sha256 = std::string(64, 'a');
    m.file = "a00/cur/" + std::to_string(uid) + ":2,";
    m.added_at = 1'700'000'000;
    return m;
}

}  // namespace

TEST_CASE("a worker whose lease was taken over commits no catalog write", "[fleet][fence]") {
    FenceFixture f;
    if (!f.backend) return;
    f.add_accounts(1);
    auto db_a = f.connect();
    auto db_b = f.connect();
    fleet::Leases a(*db_a), b(*db_b);
    auto lease = a.claim("worker-a", 1000ms);
    REQUIRE(lease);
    auto fenced = f.open(lease);
    // While the lease holds: written and committed.
    const auto account = fenced->ensure_account(lease->account.name);
    const auto inbox = save_inbox(*fenced, account);
    fenced->add_messages({message(inbox, 1)});

    // A transaction begun while the lease held, committed after it expired
    // and worker B took it over (A was stalled).
    fenced->begin();
    fenced->add_messages({message(inbox, 2), message(inbox, 3)});
    std::this_thread::sleep_for(1200ms);
    REQUIRE(b.claim("worker-b", 60s));
    CHECK_THROWS_AS(fenced->commit(), store::LeaseLost);
    CHECK(f.lost_calls == 1);
    // Outside a transaction too: each write is refused, nothing is committed.
    CHECK_THROWS_AS(fenced->add_message(message(inbox, 4)), store::LeaseLost);
    CHECK_THROWS_AS(fenced->begin_run("backup", 1'700'000'001), store::LeaseLost);
    CHECK_THROWS_AS(fenced->mark_checked(inbox, 1'700'000'002, "stamp"), store::LeaseLost);
    CHECK(f.lost_calls == 1);  // once

    auto plain = f.open(std::nullopt);
    std::vector<std::uint32_t> uids;
    for (const auto& m : plain->messages(inbox)) uids.push_back(m.uid);
    CHECK(uids == std::vector<std::uint32_t>{1});
    CHECK_FALSE(plain->last_run("backup"));
    CHECK_FALSE(plain->find_mailbox(account, "INBOX")->last_sync_at);
}

TEST_CASE("a fenced catalog whose lease holds writes as any other", "[fleet][fence]") {
    FenceFixture f;
    if (!f.backend) return;
    f.add_accounts(1);
    auto db = f.connect();
    fleet::Leases leases(*db);
    auto lease = leases.claim("worker-a", 60s);
    REQUIRE(lease);
    auto fenced = f.open(lease);
    const auto account = fenced->ensure_account(lease->account.name);
    const auto inbox = save_inbox(*fenced, account);
    fenced->begin();
    fenced->add_messages({message(inbox, 1), message(inbox, 2)});
    fenced->begin();  // nested: a savepoint, fenced by the outer COMMIT only
    fenced->add_message(message(inbox, 3));
    fenced->commit();
    fenced->commit();
    const auto run = fenced->begin_run("backup", 1'700'000'001);
    fenced->finish_run(run, 1'700'000'002, "ok", "{}");
    CHECK(f.lost_calls == 0);

    auto plain = f.open(std::nullopt);
    CHECK(plain->messages(inbox).size() == 3);
    CHECK(plain->last_run("backup")->status == "ok");
    // The fence's FOR SHARE lock ended with its transaction: the lease can
    // be renewed and released at once (lock_timeout would fail them otherwise).
    CHECK(leases.renew(*lease, 60s));
    CHECK(leases.release(*lease, fleet::RunOutcome{0, "ok", "", false}));
}

TEST_CASE("a fenced write a constraint refuses outside a transaction leaves the catalog usable",
          "[fleet][fence]") {
    FenceFixture f;
    if (!f.backend) return;
    f.add_accounts(1);
    auto db = f.connect();
    auto lease = fleet::Leases(*db).claim("worker-a", 60s);
    REQUIRE(lease);
    auto fenced = f.open(lease);
    const auto account = fenced->ensure_account(lease->account.name);
    const auto inbox = save_inbox(*fenced, account);
    fenced->add_message(message(inbox, 1));
    CHECK_THROWS_AS(fenced->add_message(message(inbox, 1)),
                    store::StoreError);                                // a second live UID
    CHECK_THROWS_AS(save_inbox(*fenced, account), store::StoreError);  // a second live INBOX
    fenced->add_message(message(inbox, 2));
    CHECK(f.open(std::nullopt)->messages(inbox).size() == 2);
    CHECK(f.lost_calls == 0);
}

TEST_CASE("a fence on a lease that never was ours refuses the first write", "[fleet][fence]") {
    FenceFixture f;
    if (!f.backend) return;
    f.add_accounts(1);
    auto db = f.connect();
    auto lease = fleet::Leases(*db).claim("worker-a", 60s);
    REQUIRE(lease);
    auto stale = *lease;
    stale.generation -= 1;  // an earlier holder's lease
    auto fenced = f.open(stale);
    CHECK_THROWS_AS(fenced->ensure_account(lease->account.name), store::LeaseLost);
    CHECK(f.lost_calls == 1);
    CHECK(f.open(std::nullopt)->account_names().empty());
}

TEST_CASE("a worker frozen inside a transaction holds no row lock the new holder waits for",
          "[fleet][fence]") {
    // Its row locks would make the new holder's writes of the same rows wait
    // for lock_timeout (10 s) and fail: the server ends the frozen session.
    FenceFixture f;
    if (!f.backend) return;
    f.add_accounts(1);
    auto db_a = f.connect();
    auto db_b = f.connect();
    fleet::Leases a(*db_a), b(*db_b);
    auto lease = a.claim("worker-a", 500ms);
    REQUIRE(lease);
    auto frozen = f.open(lease, 500ms);
    const auto account = frozen->ensure_account(lease->account.name);
    const auto inbox = save_inbox(*frozen, account);
    frozen->begin();
    frozen->mark_checked(inbox, 1'700'000'001, "a");  // the mailbox row, locked
    std::this_thread::sleep_for(1200ms);              // frozen past its lease

    auto taken = b.claim("worker-b", 60s);
    REQUIRE(taken);
    auto holder = f.open(taken, 60s);
    const auto started = std::chrono::steady_clock::now();
    holder->mark_checked(inbox, 1'700'000'002, "b");
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    // The frozen one wakes up: its transaction is gone, nothing committed.
    CHECK_THROWS_AS(frozen->commit(), store::StoreError);
    frozen->rollback();
    CHECK(f.open(std::nullopt)->find_mailbox(account, "INBOX")->folder_stamp == "b");
}

// "A lost run record stays running" (issue 13): a worker killed mid-account
// never finishes its run record; the next claim of the account, once the
// lease ended, closes it as interrupted. A record its holder finished, and
// one another account's live holder is writing, are left as they are.
TEST_CASE("a run record its holder never finished is closed as interrupted by the account's next claim",
          "[fleet][fence][run]") {
    FenceFixture f;
    if (!f.backend) return;
    f.add_accounts(2);
    auto db_a = f.connect();
    auto db_b = f.connect();
    fleet::Leases a(*db_a), b(*db_b);
    auto dead = a.claim("worker-a", 1000ms);
    REQUIRE(dead);
    auto live = b.claim("worker-b", 60s);  // the other account, held all along
    REQUIRE(live);
    store::Id dead_run = 0, live_run = 0;
    {
        auto fenced = f.open(dead);
        dead_run = fenced->begin_run("backup", 1'700'000'000);
    }  // worker A is "killed": its catalog goes, the record stays open
    live_run = f.open(live)->begin_run("backup", 1'700'000'001);

    // "STATUS open" or "STATUS finished"
    auto state = [&](store::Id id) {
        auto& admin = f.backend->admin();
        return admin
            .query("SELECT status || CASE WHEN finished_at IS NULL THEN ' open' ELSE ' finished' END FROM " +
                       admin.quote_identifier(f.backend->schema()) + ".run WHERE id = $1::bigint",
                   id)
            .text(0, 0);
    };
    CHECK(state(dead_run) == "running open");
    std::this_thread::sleep_for(1200ms);  // A's lease expires
    auto next = b.claim("worker-c", 60s);
    REQUIRE(next);
    CHECK(next->account.name == dead->account.name);
    CHECK(next->closed_run == std::optional<std::int64_t>(dead_run));
    CHECK(state(dead_run) == "interrupted finished");
    CHECK(state(live_run) == "running open");  // its lease holds

    // The new holder finishes its own run and releases the account, due at
    // once: the next claim finds a finished record and leaves it alone.
    {
        auto fenced = f.open(next);
        const auto run = fenced->begin_run("backup", 1'700'000'002);
        fenced->finish_run(run, 1'700'000'003, "ok", "{}");
        REQUIRE(b.release(*next, fleet::RunOutcome{0, "ok", "", true}));
        auto again = b.claim("worker-d", 60s);
        REQUIRE(again);
        CHECK_FALSE(again->closed_run);
        CHECK(state(run) == "ok finished");
    }
}
