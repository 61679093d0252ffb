// Group commit of the catalog's write-ahead log (src/store/wal_group_sync.*):
// one sync serves every commit written before it began, a commit written
// during a sync waits for the next one, and a commit() of the catalog
// returns only once its frames are synced.
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <stdexcept>

#include "store/wal_group_sync.hpp"
#include "support/fault_file_system.hpp"
#include "support/sqlite_sync_counter.hpp"
#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::Gate;
using imapkeep::test::SqliteSyncCounter;
using imapkeep::test::TempDir;

TEST_CASE("one log sync makes every commit written before it durable", "[store][group-commit]") {
    WalGroupSync group;
    int syncs = 0;
    const auto sync = [&] { ++syncs; };
    const auto first = group.committed();
    const auto second = group.committed();
    group.durable_through(second, sync);
    CHECK(syncs == 1);
    group.durable_through(first, sync);  // already covered
    CHECK(syncs == 1);
    group.durable_through(group.committed(), sync);
    CHECK(syncs == 2);
}

TEST_CASE("commits written during a sync share the next one", "[store][group-commit]") {
    WalGroupSync group;
    std::atomic<int> syncs{0};
    Gate gate;
    const auto held_sync = [&] {
        if (++syncs == 1) gate.arrive_and_wait();
    };
    const auto first = group.committed();
    auto leader = std::async(std::launch::async, [&] { group.durable_through(first, held_sync); });
    gate.wait_arrived();
    // Written after the running sync began: it does not cover them.
    const auto second = group.committed();
    const auto third = group.committed();
    auto b = std::async(std::launch::async, [&] { group.durable_through(second, held_sync); });
    auto c = std::async(std::launch::async, [&] { group.durable_through(third, held_sync); });
    CHECK(b.wait_for(std::chrono::milliseconds(200)) == std::future_status::timeout);
    gate.release();
    leader.get();
    b.get();
    c.get();
    CHECK(syncs == 2);
}

TEST_CASE("a failed log sync is reported, and the next caller syncs again", "[store][group-commit]") {
    WalGroupSync group;
    const auto ticket = group.committed();
    CHECK_THROWS_AS(group.durable_through(ticket, [] { throw std::runtime_error("EIO"); }),
                    std::runtime_error);
    int syncs = 0;
    group.durable_through(ticket, [&] { ++syncs; });
    CHECK(syncs == 1);
}

TEST_CASE("a catalog commit, and a write outside a transaction, return once the log is synced",
          "[store][group-commit]") {
    SqliteSyncCounter::install();
    TempDir dir;
    auto catalog = open_sqlite_catalog(dir / "catalog.sqlite");
    SqliteSyncCounter::reset();
    catalog->begin();
    const Id account = catalog->ensure_account("acct");
    CHECK(SqliteSyncCounter::syncs() == 0);  // nothing durable before the commit
    catalog->commit();
    CHECK(SqliteSyncCounter::syncs() >= 1);
    MailboxRecord mailbox;
    mailbox.account_id = account;
    mailbox.name = "INBOX";
    mailbox.delimiter = "/";
    catalog->begin();
    const Id id = catalog->save_mailbox(mailbox);
    catalog->commit();
    const bool pending = catalog->files_pending(id);
    SqliteSyncCounter::reset();
    catalog->set_files_pending(id, !pending);  // a change: the same value writes no page
    CHECK(SqliteSyncCounter::syncs() == 1);
}

// Issue 10: a backup's start record is a note for `status` and `doctor`.
// Its own sync cost 2-12 ms before the first mailbox; it now rides on the
// first change's commit (the log is synced whole). A restore's is synced.
TEST_CASE("a run's start record waits for the next commit's sync", "[store][group-commit]") {
    SqliteSyncCounter::install();
    TempDir dir;
    const std::string path = dir.path() + "/catalog.sqlite";
    auto catalog = open_sqlite_catalog(path);
    catalog->ensure_account("first");  // the log and its header exist
    SqliteSyncCounter::reset();
    const Id run = catalog->begin_run_unsynced("backup", 100);
    CHECK(SqliteSyncCounter::syncs() == 0);
    // Committed all the same: another connection reads it...
    CHECK(open_sqlite_catalog(path)->last_run("backup")->id == run);
    // ...and a read on this one does not sync it on its own.
    CHECK(catalog->find_account("first"));
    CHECK(SqliteSyncCounter::syncs() == 0);
    catalog->ensure_account("second");
    CHECK(SqliteSyncCounter::syncs() == 1);
    // A restore's record decides whether the next restore resumes: synced.
    SqliteSyncCounter::reset();
    catalog->begin_run("restore", 200);
    CHECK(SqliteSyncCounter::syncs() == 1);
}
