// Checkpoints of the catalog's log on a thread of their own
// (src/store/wal_checkpointer.*): a commit that grows the log past the
// threshold returns without copying the log into the database file, and the
// copy still happens.
#include "store/wal_checkpointer.hpp"

#include <sqlite3.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/catalog_write_lock.hpp"
#include "support/fault_file_system.hpp"
#include "support/sqlite_sync_counter.hpp"
#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::Gate;
using imapkeep::test::SqliteSyncCounter;
using imapkeep::test::TempDir;

namespace {

template <typename Predicate>
bool eventually(Predicate done) {
    for (int i = 0; i < 1000; ++i) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
}

}  // namespace

TEST_CASE("a checkpoint is due for what earlier runs left, then every 4,000 pages",
          "[store][checkpoint]") {
    struct Case {
        const char* what;
        std::vector<int> frames;  // the log's pages after each commit
        std::vector<bool> due;
    };
    const std::vector<Case> cases = {
        {"a run's few pages", {10, 20, 500}, {false, false, false}},
        {"pages earlier runs left", {1200}, {true}},
        {"this run's pages under the stride",
         {1200, 1500, 3000, 5100},
         {true, false, false, false}},
        {"a cold backup", {1200, 5300, 9000, 9400}, {true, true, false, true}},
        {"after the log started again", {1200, 30, 3000, 4100}, {true, false, false, true}},
        {"a log that never reached 1,000", {900, 30, 950, 4100}, {false, false, false, true}},
        {"a run that grows the log past 1,000 leaves it to the next",
         {10, 1500, 3900},
         {false, false, false}},
        {"a run that grows it past 4,000", {10, 1500, 4100}, {false, false, true}},
    };
    for (const auto& c : cases) {
        CheckpointSchedule schedule;
        std::vector<bool> due;
        for (const int frames : c.frames) due.push_back(schedule.due(frames));
        INFO(c.what);
        CHECK(due == c.due);
    }
}

TEST_CASE("a checkpoint request returns while the checkpoint runs", "[store][checkpoint]") {
    Gate gate;
    std::atomic<int> runs{0};
    WalCheckpointer checkpointer([&](CheckpointMode) {
        ++runs;
        gate.arrive_and_wait();
        return true;
    });
    checkpointer.request();
    gate.wait_arrived();  // running on its own thread, held there
    CHECK(runs == 1);
    gate.release();
}

TEST_CASE("requests made during a checkpoint make one more, not one each", "[store][checkpoint]") {
    Gate gate;
    std::atomic<int> runs{0};
    {
        WalCheckpointer checkpointer([&](CheckpointMode) {
            if (++runs == 1) gate.arrive_and_wait();
            return true;
        });
        checkpointer.request();
        gate.wait_arrived();
        for (int i = 0; i < 5; ++i) checkpointer.request();
        gate.release();
        CHECK(eventually([&] { return runs == 2; }));
    }
    CHECK(runs == 2);
}

TEST_CASE("a failed checkpoint leaves the next request to try again", "[store][checkpoint]") {
    std::atomic<int> runs{0};
    WalCheckpointer checkpointer([&](CheckpointMode) {
        if (++runs == 1) throw StoreError("disk I/O error");
        return true;
    });
    checkpointer.request();
    CHECK(eventually([&] { return runs == 1; }));
    checkpointer.request();
    CHECK(eventually([&] { return runs == 2; }));
}

TEST_CASE("closing waits for a running checkpoint", "[store][checkpoint]") {
    Gate gate;
    std::atomic<bool> finished{false};
    auto checkpointer = std::make_unique<WalCheckpointer>([&](CheckpointMode) {
        gate.arrive_and_wait();
        finished = true;
        return true;
    });
    checkpointer->request();
    gate.wait_arrived();
    auto closing = std::async(std::launch::async, [&] { checkpointer.reset(); });
    CHECK(closing.wait_for(std::chrono::milliseconds(100)) == std::future_status::timeout);
    gate.release();
    closing.get();
    CHECK(finished);
}

TEST_CASE("a long log is checkpointed when a process first opens it", "[store][checkpoint]") {
    struct Case {
        const char* what;
        std::vector<std::uintmax_t> opened;  // the log's bytes at each opening
        std::vector<bool> due;
    };
    constexpr auto kShort = kShortLogBytes;
    const std::vector<Case> cases = {
        {"no log yet", {0}, {false}},
        {"a short log", {kShort}, {false}},
        {"a long log", {kShort + 1}, {true}},
        {"the workers' connections open it again",
         {kShort + 1, kShort + 1, 50 * kShort},
         {true, false, false}},
        {"a short log, then a long one: the run's own pages", {kShort, 5 * kShort}, {false, false}},
    };
    for (const auto& c : cases) {
        CheckpointSchedule schedule;
        std::vector<bool> due;
        for (const auto bytes : c.opened) due.push_back(schedule.opened(bytes));
        INFO(c.what);
        CHECK(due == c.due);
    }
}

TEST_CASE(
    "the checkpoint of a long log found at opening is a restart, tried again until it is done",
    "[store][checkpoint]") {
    // Steps: "open:<bytes>", "commit:<frames>" (each shows whether a
    // checkpoint is due and its mode: 'R' restart, 'P' passive, '-' none),
    // and "done" / "failed" for the restart that ran.
    struct Case {
        const char* what;
        std::vector<std::string> steps;
        std::string due;
    };
    const std::string kLong = std::to_string(kShortLogBytes + 1);
    const std::string kShort = std::to_string(kShortLogBytes);
    const std::vector<Case> cases = {
        {"a short log: none", {"open:" + kShort, "commit:10"}, "--"},
        {"a restart done at once", {"open:" + kLong, "done", "commit:2", "commit:4"}, "R--"},
        {"a restart a commit or a reader kept from its end is tried after the next commit",
         {"open:" + kLong, "failed", "commit:1600", "done", "commit:2"},
         "RR-"},
        {"at most 4 attempts; then only the passive schedule",
         {"open:" + kLong, "failed", "commit:1600", "failed", "commit:1601", "failed",
          "commit:1602", "failed", "commit:1603", "commit:5700"},
         "RRRR-P"},
        {"a passive checkpoint due while a restart is wanted is the restart",
         {"open:" + kLong, "failed", "commit:5000", "done", "commit:9100"},
         "RRP"},
    };
    for (const auto& c : cases) {
        CheckpointSchedule schedule;
        std::string due;
        const auto show = [&](bool is_due) {
            const bool restart = schedule.next_mode() == CheckpointMode::kRestart;
            due += !is_due ? '-' : restart ? 'R' : 'P';
        };
        for (const auto& step : c.steps) {
            const auto colon = step.find(':');
            const std::string kind = step.substr(0, colon);
            if (kind == "open") show(schedule.opened(std::stoull(step.substr(colon + 1))));
            if (kind == "commit") show(schedule.due(std::stoi(step.substr(colon + 1))));
            if (kind == "done" || kind == "failed")
                schedule.finished(CheckpointMode::kRestart, kind == "done");
        }
        INFO(c.what);
        CHECK(due == c.due);
    }
}

namespace {

// A catalog at `path` whose log holds about 1,500 pages (6 MB), left as a
// run leaves it; returns the mailbox's id. The commit of the pages runs no
// checkpoint on this thread.
Id leave_a_long_log(const std::string& path) {
    auto catalog = open_sqlite_catalog(path);
    catalog->begin();
    MailboxRecord mailbox;
    mailbox.account_id = catalog->ensure_account("acct");
    mailbox.name = "INBOX";
    mailbox.delimiter = "/";
    const Id mailbox_id = catalog->save_mailbox(mailbox);
    catalog->commit();

    // One row of 3 KB each.
    std::vector<MessageRecord> batch;
    for (std::uint32_t uid = 1; uid <= 1500; ++uid) {
        MessageRecord m;
        m.mailbox_id = mailbox_id;
        m.uidvalidity = 7;
        m.uid = uid;
        m.size = 1;
        m.sha256 = std::string(64, 'a');
        m.message_id = "<" + std::to_string(uid) + std::string(3000, 'x') + ">";
        m.file = "mail/acct/cur/" + std::to_string(uid);
        batch.push_back(m);
    }
    SqliteSyncCounter::reset();
    catalog->begin();
    catalog->add_messages(batch);
    catalog->commit();
    // In WAL mode only a checkpoint syncs the database file itself. The
    // old code ran one inside this commit: 1 sync on this thread.
    CHECK(SqliteSyncCounter::database_syncs_on_this_thread() == 0);
    return mailbox_id;
}

// A catalog whose log is long (leave_a_long_log), in a directory of its own.
struct LongLog {
    LongLog() {
        SqliteSyncCounter::install();
        mailbox_id = leave_a_long_log(path);
    }
    TempDir dir;
    std::string path = dir / "catalog.sqlite";
    std::string log = path + "-wal";
    Id mailbox_id = 0;
};

// Commits through `catalog` until the log's file is cut short again (a
// commit that begins after a whole checkpoint writes at the log's head);
// false when that takes over 10 s.
bool commits_shorten_the_log(Catalog& catalog, const LongLog& long_log) {
    return eventually([&] {
        catalog.set_files_pending(long_log.mailbox_id, !catalog.files_pending(long_log.mailbox_id));
        return std::filesystem::file_size(long_log.log) <= kShortLogBytes;
    });
}

}  // namespace

TEST_CASE("the pages a run leaves in the log are checkpointed beside the next run",
          "[store][checkpoint]") {
    const LongLog long_log;
    const Id mailbox_id = long_log.mailbox_id;
    // The next run: it finds the pages and starts a checkpoint on another
    // thread; its commits wait for none.
    auto catalog = open_sqlite_catalog(long_log.path);
    SqliteSyncCounter::reset();
    catalog->set_files_pending(mailbox_id, !catalog->files_pending(mailbox_id));
    CHECK(SqliteSyncCounter::database_syncs_on_this_thread() == 0);
    CHECK(eventually([] { return SqliteSyncCounter::database_syncs() >= 1; }));
    CHECK(catalog->messages(mailbox_id).size() == 1500);
}

TEST_CASE("a run that finds a long log leaves a short one to the next", "[store][checkpoint]") {
    const LongLog long_log;
    REQUIRE(std::filesystem::file_size(long_log.log) > kShortLogBytes);
    {
        auto catalog = open_sqlite_catalog(long_log.path);
        // The next run then reads only what came after.
        CHECK(commits_shorten_the_log(*catalog, long_log));
        CHECK(catalog->messages(long_log.mailbox_id).size() == 1500);
    }
    auto next = open_sqlite_catalog(long_log.path);
    CHECK(next->messages(long_log.mailbox_id).size() == 1500);
}

namespace {

// A connection of its own, as another process's would be (the catalog's
// connections share this process's write lock and checkpointer).
class RawConnection {
  public:
    explicit RawConnection(const std::string& path) {
        if (sqlite3_open(path.c_str(), &m_db) != SQLITE_OK)
            throw std::runtime_error("open " + path);
    }
    ~RawConnection() { sqlite3_close(m_db); }
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;
    void exec(const std::string& sql) {
        if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
            throw std::runtime_error(sql + ": " + sqlite3_errmsg(m_db));
    }

  private:
    sqlite3* m_db = nullptr;
};

}  // namespace

TEST_CASE(
    "a commit made while the opening checkpoint copies the log's rest waits, and the log starts "
    "again",
    "[store][checkpoint]") {
    // Before: that commit was appended to the log while a passive checkpoint
    // copied it; the checkpoint then never reached the log's end, nothing
    // asked for another, and the log stayed long for the next process too.
    // Now the bulk is copied passively (a commit then goes through), and the
    // rest, what commits added meanwhile, with the writers held off.
    const LongLog long_log;
    const Id mailbox_id = long_log.mailbox_id;
    Gate bulk_copied;
    Gate rest_copied;
    std::atomic<int> syncs{0};
    SqliteSyncCounter::before_database_sync([&] {
        const int n = ++syncs;
        if (n == 1) bulk_copied.arrive_and_wait();
        if (n == 2) rest_copied.arrive_and_wait();
    });
    auto catalog = open_sqlite_catalog(long_log.path);
    const auto toggle = [&] {
        catalog->set_files_pending(mailbox_id, !catalog->files_pending(mailbox_id));
    };
    bulk_copied.wait_arrived();  // the passive part copied the log and syncs the database
    auto during_bulk = std::async(std::launch::async, toggle);
    CHECK(during_bulk.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    during_bulk.get();
    bulk_copied.release();
    rest_copied.wait_arrived();  // the restart copied that commit's pages
    auto commit = std::async(std::launch::async, toggle);
    CHECK(commit.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout);
    rest_copied.release();
    commit.get();
    SqliteSyncCounter::before_database_sync({});
    CHECK(commits_shorten_the_log(*catalog, long_log));
    CHECK(catalog->messages(mailbox_id).size() == 1500);
}

TEST_CASE("a restart a reader kept from the log's end is tried again after a later commit",
          "[store][checkpoint]") {
    const LongLog long_log;
    const Id mailbox_id = long_log.mailbox_id;
    // Another process reads a snapshot, and another commits after it: the
    // pages of that commit cannot be copied while the read lasts.
    RawConnection reader(long_log.path);
    RawConnection writer(long_log.path);
    reader.exec("BEGIN; SELECT count(*) FROM message;");
    writer.exec("UPDATE mailbox SET files_pending = 1 - files_pending");
    auto catalog = open_sqlite_catalog(long_log.path);
    auto& checkpointer = CatalogWriteLock::for_file(long_log.path)->checkpointer();
    checkpointer.wait_idle();
    // The run's first commit, with the read still on: a second attempt,
    // made by any checkpoint schedule (pages earlier runs left).
    catalog->set_files_pending(mailbox_id, !catalog->files_pending(mailbox_id));
    checkpointer.wait_idle();
    CHECK(std::filesystem::file_size(long_log.log) > kShortLogBytes);
    reader.exec("COMMIT");
    CHECK(commits_shorten_the_log(*catalog, long_log));
    CHECK(catalog->messages(mailbox_id).size() == 1500);
}
