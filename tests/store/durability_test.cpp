// Invariant 8: durability is per batch, whichever thread issued the fsyncs.
// Two workers share one MessageStore; the fault file system holds one worker's
// fsync on a gate while the other finishes its batch, and records the order of
// operations so each test asserts "durable before returned".
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <imapkeep/store/message_store.hpp>
#include <thread>

#include "support/fault_file_system.hpp"
#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::FaultFileSystem;
using imapkeep::test::FsOp;
using imapkeep::test::TempDir;

namespace {

struct Fixture {
    TempDir dir;
    std::shared_ptr<FaultFileSystem> fs = std::make_shared<FaultFileSystem>();
    std::unique_ptr<MessageStore> store = open_maildir_store(dir.path(), {true, fs});

    std::unique_ptr<PendingMessage> write(const std::string& folder, const std::string& body) {
        auto pending = store->begin("acct", folder);
        pending->write(body);
        return pending;
    }
    std::string cur(const std::string& folder) { return dir / ("mail/acct/" + folder + "/cur"); }
};

// More files than the store keeps open for a batch: that batch takes one
// syncfs.
constexpr int kFilesForSyncFs = 65;

// Runs `work` on a thread; gives it a moment to return early (the bug) before
// the test releases the gate that holds the other worker.
void run_while_held(std::future<void>& done, imapkeep::test::Gate& gate) {
    done.wait_for(std::chrono::milliseconds(300));
    gate.release();
    done.get();
}

}  // namespace

TEST_CASE("sync_committed returns only when this worker's renames are durable",
          "[store][durability]") {
    Fixture f;
    // Both workers commit a message into their own folder; neither has synced yet.
    auto a = f.write(".A", "a");
    auto b = f.write(".B", "b");
    a->finish();
    b->finish();
    f.store->sync_pending();
    f.store->commit(*a, "acct", ".A", 1, 0, {});
    f.store->commit(*b, "acct", ".B", 1, 0, {});

    // Worker 1 takes the dirty directories and stalls in its first fsync.
    auto gate = f.fs->hold(FsOp::FsyncDir, "/.A/cur");
    auto worker1 = std::async(std::launch::async, [&] { f.store->sync_committed(); });
    gate->wait_arrived();
    // Worker 2 must not return before .B/cur is durable (its catalog commit follows).
    auto worker2 = std::async(std::launch::async, [&] {
        f.store->sync_committed();
        f.fs->note("worker 2 returned");
    });
    run_while_held(worker2, *gate);
    worker1.get();

    const long synced = f.fs->index_of("fsync_dir " + f.cur(".B"));
    const long returned = f.fs->index_of("worker 2 returned");
    INFO("log position of the .B/cur fsync " << synced << ", of worker 2's return " << returned);
    REQUIRE(synced >= 0);
    CHECK(synced < returned);
}

TEST_CASE("a worker whose batch another worker failed to fsync takes the fsync over",
          "[store][durability]") {
    Fixture f;
    auto a = f.write(".A", "a");
    auto b = f.write(".B", "b");
    a->finish();
    b->finish();
    f.store->sync_pending();
    f.store->commit(*a, "acct", ".A", 1, 0, {});
    f.store->commit(*b, "acct", ".B", 1, 0, {});

    // Worker 1 took both directories; its fsync of .A/cur stalls, then fails.
    auto gate = f.fs->hold(FsOp::FsyncDir, "/.A/cur", true);
    auto worker1 = std::async(std::launch::async, [&] { f.store->sync_committed(); });
    gate->wait_arrived();
    auto worker2 = std::async(std::launch::async, [&] {
        f.store->sync_committed();
        f.fs->note("worker 2 returned");
    });
    worker2.wait_for(std::chrono::milliseconds(300));
    gate->release();
    CHECK_THROWS_AS(worker1.get(), StoreError);
    REQUIRE_NOTHROW(worker2.get());
    // Worker 2 returned successfully, so both directories were fsynced before.
    const long returned = f.fs->index_of("worker 2 returned");
    for (const auto& folder : {".A", ".B"}) {
        INFO(folder);
        const long synced = f.fs->index_of("fsync_dir " + f.cur(folder));
        CHECK(synced >= 0);
        CHECK(synced < returned);
    }
}

TEST_CASE("a failed directory fsync leaves the batch of a waiting worker undurable",
          "[store][durability]") {
    Fixture f;
    auto a = f.write(".A", "a");
    a->finish();
    f.store->sync_pending();
    f.store->commit(*a, "acct", ".A", 1, 0, {});

    f.fs->fail(FsOp::FsyncDir, "/.A/cur");
    CHECK_THROWS_AS(f.store->sync_committed(), StoreError);
    // The directory is still dirty: the next call fsyncs it, it is not forgotten.
    f.fs->clear_log();
    f.store->sync_committed();
    CHECK(f.fs->index_of("fsync_dir " + f.cur(".A")) >= 0);
}

TEST_CASE("sync_pending: a message is durable before its rename, whoever fsyncs it",
          "[store][durability]") {
    // One syncfs for a batch of many files, an fsync of each for a few, and
    // an fsync of each where there is no syncfs.
    enum class Mode { SyncFs, FsyncTogether, NoSyncFs };
    for (const Mode mode : {Mode::SyncFs, Mode::FsyncTogether, Mode::NoSyncFs}) {
        INFO("mode " << static_cast<int>(mode));
        TempDir dir;
        auto fs = std::make_shared<FaultFileSystem>();
        if (mode == Mode::NoSyncFs) fs->without_sync_file_system();
        auto store = open_maildir_store(dir.path(), {true, fs});
        std::vector<std::unique_ptr<PendingMessage>> others;
        if (mode == Mode::SyncFs) {
            for (int i = 0; i < kFilesForSyncFs; ++i) {
                others.push_back(store->begin("acct", ".C"));
                others.back()->write("c");
                others.back()->finish();
            }
        }
        auto a = store->begin("acct", ".A");
        a->write("a");
        auto b = store->begin("acct", ".B");
        b->write("b");
        a->finish();
        b->finish();
        const std::string b_tmp = dir / "mail/acct/.B/tmp/";

        // Worker 1 takes the batch and stalls before B's file is durable.
        auto gate = mode == Mode::SyncFs ? fs->hold(FsOp::SyncFs) : fs->hold(FsOp::Fsync, "/.B/tmp/");
        auto worker1 = std::async(std::launch::async, [&] { store->sync_pending(); });
        gate->wait_arrived();
        auto worker2 = std::async(std::launch::async, [&] {
            store->sync_pending();
            store->commit(*b, "acct", ".B", 1, 0, {});
        });
        run_while_held(worker2, *gate);
        worker1.get();

        INFO(Catch::Detail::stringify(fs->log()));
        CHECK(fs->undurable_renames().empty());
        long first_sync = -1, rename = -1;
        const auto log = fs->log();
        for (std::size_t i = 0; i < log.size(); ++i) {
            const bool about_b = log[i].find(b_tmp) != std::string::npos;
            const bool sync = log[i].rfind("syncfs ", 0) == 0 ||
                              (about_b && log[i].rfind("fsync", 0) == 0);
            if (first_sync < 0 && sync) first_sync = static_cast<long>(i);
            if (about_b && log[i].rfind("rename ", 0) == 0) rename = static_cast<long>(i);
        }
        REQUIRE(rename >= 0);
        CHECK(first_sync >= 0);
        CHECK(first_sync < rename);
    }
}

TEST_CASE("INTERNALDATE is on the file before its data fsync", "[store][durability]") {
    for (bool defer : {true, false}) {
        for (bool early : {true, false}) {
          for (bool syncfs : {true, false}) {
            INFO("defer " << defer << ", set_internaldate before finish " << early << ", syncfs " << syncfs);
            TempDir dir;
            auto fs = std::make_shared<FaultFileSystem>();
            if (!syncfs) fs->without_sync_file_system();
            auto store = open_maildir_store(dir.path(), {defer, fs});
            auto pending = store->begin("acct", "");
            pending->write("body");
            if (early) pending->set_internaldate(1'500'000'000);
            pending->finish();
            store->sync_pending();
            const auto file = store->commit(*pending, "acct", "", 1, 1'500'000'000, {});
            store->sync_committed();

            // The last time change comes before the last data fsync, which comes
            // before the rename: the mtime is as durable as the bytes.
            long last_time = -1, last_fsync = -1, rename = -1;
            const auto log = fs->log();
            for (std::size_t i = 0; i < log.size(); ++i) {
                const auto at = static_cast<long>(i);
                if (log[i].rfind("syncfs ", 0) == 0) last_fsync = at;
                if (log[i].find("/tmp/") == std::string::npos) continue;
                if (log[i].rfind("set_mtime ", 0) == 0) last_time = at;
                if (log[i].rfind("fsync ", 0) == 0 || log[i].rfind("fsync_file ", 0) == 0)
                    last_fsync = at;
                if (log[i].rfind("rename ", 0) == 0) rename = at;
            }
            INFO(Catch::Detail::stringify(log));
            CHECK(fs->undurable_renames().empty());
            REQUIRE(last_time >= 0);
            CHECK(last_time < last_fsync);
            CHECK(last_fsync < rename);
            struct stat st {};
            REQUIRE(::stat(store->absolute(file).c_str(), &st) == 0);
            CHECK(st.st_mtim.tv_sec == 1'500'000'000);
          }
        }
    }
}

TEST_CASE("commit with another INTERNALDATE than announced sets and fsyncs it again",
          "[store][durability]") {
    TempDir dir;
    auto fs = std::make_shared<FaultFileSystem>();
    auto store = open_maildir_store(dir.path(), {true, fs});
    auto pending = store->begin("acct", "");
    pending->write("body");
    pending->set_internaldate(1000);
    pending->finish();
    store->sync_pending();
    fs->clear_log();
    const auto file = store->commit(*pending, "acct", "", 1, 2000, {});
    const auto log = fs->log();
    INFO(Catch::Detail::stringify(log));
    REQUIRE(log.size() >= 3);
    CHECK(log[0].rfind("set_mtime ", 0) == 0);
    CHECK(log[1].rfind("fsync_file ", 0) == 0);
    CHECK(log[2].rfind("rename ", 0) == 0);
    struct stat st {};
    REQUIRE(::stat(store->absolute(file).c_str(), &st) == 0);
    CHECK(st.st_mtim.tv_sec == 2000);

    // After finish() the time can no longer be announced (the fd is gone).
    auto late = store->begin("acct", "");
    late->finish();
    CHECK_THROWS_AS(late->set_internaldate(1), StoreError);
}

// Issue 10, "durability per batch, not per file": one syncfs makes a whole
// batch durable before its renames (fsync per file costs a journal commit each).
TEST_CASE("a batch of many messages costs one file-system sync, not an fsync each",
          "[store][durability][perf]") {
    Fixture f;
    std::vector<std::unique_ptr<PendingMessage>> batch;
    for (int i = 0; i < kFilesForSyncFs; ++i) {
        batch.push_back(f.write("", "message " + std::to_string(i)));
        batch.back()->set_internaldate(1'600'000'000 + i);
        batch.back()->finish();
    }
    f.store->sync_pending();
    for (std::size_t i = 0; i < batch.size(); ++i)
        f.store->commit(*batch[i], "acct", "", static_cast<std::uint32_t>(i + 1),
                        1'600'000'000 + static_cast<std::int64_t>(i), {});
    f.store->sync_committed();
    INFO(Catch::Detail::stringify(f.fs->undurable_renames()));
    CHECK(f.fs->undurable_renames().empty());
    CHECK(f.fs->count(FsOp::Fsync) + f.fs->count(FsOp::FsyncFile) == 0);
    CHECK(f.fs->count(FsOp::SyncFs) == 1);
    // A batch with nothing new to write needs no second sync.
    f.store->sync_pending();
    CHECK(f.fs->count(FsOp::SyncFs) == 1);
}

TEST_CASE("a batch of a few messages is made durable by an fsync of each, made together, not a syncfs",
          "[store][durability][perf]") {
    Fixture f;
    std::vector<std::unique_ptr<PendingMessage>> batch;
    for (int i = 0; i < 10; ++i) {
        batch.push_back(f.write("", "message " + std::to_string(i)));
        batch.back()->set_internaldate(1'600'000'000 + i);
        batch.back()->finish();
    }
    // syncfs also waits for all else the file system holds unwritten. The
    // fsyncs run together: the others finish while the first is held (ext4
    // commits its journal once for all that wait).
    auto gate = f.fs->hold(FsOp::Fsync);
    auto sync = std::async(std::launch::async, [&] { f.store->sync_pending(); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto wait_for = [&](const auto& done) {
        while (!done() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return done();
    };
    const bool held = wait_for([&] { return gate->arrived(); });
    const bool others_done = wait_for([&] { return f.fs->count(FsOp::Fsync) == 9; });
    gate->release();
    sync.get();
    CHECK(held);
    CHECK(others_done);
    for (std::size_t i = 0; i < batch.size(); ++i)
        f.store->commit(*batch[i], "acct", "", static_cast<std::uint32_t>(i + 1),
                        1'600'000'000 + static_cast<std::int64_t>(i), {});
    f.store->sync_committed();
    INFO(Catch::Detail::stringify(f.fs->undurable_renames()));
    CHECK(f.fs->undurable_renames().empty());
    CHECK(f.fs->count(FsOp::Fsync) == 10);
    CHECK(f.fs->count(FsOp::FsyncFile) == 0);
    CHECK(f.fs->count(FsOp::SyncFs) == 0);
}

TEST_CASE("without syncfs every file of a batch is fsynced before its rename",
          "[store][durability][perf]") {
    TempDir dir;
    auto fs = std::make_shared<FaultFileSystem>();
    fs->without_sync_file_system();
    auto store = open_maildir_store(dir.path(), {true, fs});
    std::vector<std::unique_ptr<PendingMessage>> batch;
    for (int i = 0; i < 5; ++i) {
        batch.push_back(store->begin("acct", ""));
        batch.back()->write("message " + std::to_string(i));
        batch.back()->finish();
    }
    store->sync_pending();
    for (std::size_t i = 0; i < batch.size(); ++i)
        store->commit(*batch[i], "acct", "", static_cast<std::uint32_t>(i + 1), 0, {});
    INFO(Catch::Detail::stringify(fs->undurable_renames()));
    CHECK(fs->undurable_renames().empty());
    CHECK(fs->count(FsOp::Fsync) == 5);
    CHECK(fs->count(FsOp::SyncFs) == 0);
}

TEST_CASE("a folder made durable by an earlier run costs no fsync to use again; one made by a "
          "killed run is made durable again",
          "[store][durability]") {
    Fixture f;
    f.store->create_folder("acct", ".A");
    CHECK(f.fs->count(FsOp::FsyncDir) >= 2);  // the folder, and its entry in the account
    const auto cur = f.cur(".A");
    const std::string marker = f.dir / "mail/acct/.A/maildirfolder";
    for (const bool killed_before_durable : {false, true}) {
        DYNAMIC_SECTION((killed_before_durable ? "marker missing" : "marker there")) {
            // The earlier run's marker is written once the folder is durable;
            // a run killed before that leaves the directories without it.
            if (killed_before_durable) ::unlink(marker.c_str());
            auto fs = std::make_shared<FaultFileSystem>();
            auto next_run = open_maildir_store(f.dir.path(), {true, fs});
            next_run->create_folder("acct", "");  // the account's tree: once a run
            fs->clear_log();
            next_run->create_folder("acct", ".A");
            INFO(Catch::Detail::stringify(fs->log()));
            if (killed_before_durable) {
                CHECK(fs->count(FsOp::FsyncDir) == 2);
                struct stat st {};
                CHECK(::stat(marker.c_str(), &st) == 0);
                // Durable first, then the marker that says so.
                const auto log = fs->log();
                CHECK(log.back().rfind("touch ", 0) == 0);
            } else {
                CHECK(fs->count(FsOp::FsyncDir) == 0);
                CHECK(fs->count(FsOp::MakeDir) == 0);
            }
        }
    }
}

// An account's tree (mail/ACCOUNT, attic/ACCOUNT) holds INBOX, so it has no
// maildirfolder marker; it used to cost three directory fsyncs per tree in
// every run, on the path of the first EXAMINE.
TEST_CASE("an account tree made durable by an earlier run costs no fsync to use again; one made "
          "by a killed run is made durable again",
          "[store][durability]") {
    Fixture f;
    auto a = f.write("", "a");
    a->finish();
    const std::string file = f.store->commit(*a, "acct", "", 1, 0, {});
    f.store->move_to_attic(file);  // makes attic/acct durable
    for (const bool killed_before_durable : {false, true}) {
        DYNAMIC_SECTION((killed_before_durable ? "killed run" : "finished run")) {
            if (killed_before_durable) {
                // A run killed between its mkdirs and its fsyncs: the trees
                // exist, but nothing says they were ever made durable.
                for (const auto& entry : std::filesystem::directory_iterator(f.dir.path()))
                    std::filesystem::remove_all(entry.path());
                for (const char* tree : {"/mail/acct/", "/attic/acct/"})
                    for (const char* sub : {"cur", "new", "tmp"})
                        std::filesystem::create_directories(f.dir.path() + tree + sub);
            }
            auto fs = std::make_shared<FaultFileSystem>();
            auto next_run = open_maildir_store(f.dir.path(), {true, fs});
            next_run->create_folder("acct", "");
            auto b = next_run->begin("acct", "");
            b->write("b");
            b->finish();
            next_run->move_to_attic(next_run->commit(*b, "acct", "", 2, 0, {}));
            INFO(Catch::Detail::stringify(fs->log()));
            const auto log = fs->log();
            auto fsynced = [&](const std::string& dir) {
                return std::count(log.begin(), log.end(), "fsync_dir " + f.dir.path() + dir);
            };
            if (killed_before_durable) {
                CHECK(fsynced("/mail/acct") == 1);
                CHECK(fsynced("/attic/acct") == 1);
                CHECK(fsynced("/mail") == 1);
                CHECK(fsynced("/attic") == 1);
            } else {
                CHECK(fsynced("/mail/acct") == 0);
                CHECK(fsynced("/attic/acct") == 0);
                CHECK(fsynced("/mail") == 0);
                CHECK(fsynced("/attic") == 0);
                CHECK(fsynced("") == 0);
            }
        }
    }
}

TEST_CASE("workers that reach a new account tree together make it durable once",
          "[store][durability]") {
    Fixture f;
    auto a = f.write(".A", "a");
    auto b = f.write(".B", "b");
    a->finish();
    b->finish();
    const std::string file_a = f.store->commit(*a, "acct", ".A", 1, 0, {});
    const std::string file_b = f.store->commit(*b, "acct", ".B", 1, 0, {});
    f.fs->clear_log();
    // Worker 1 creates attic/acct and stalls in its first fsync there.
    auto gate = f.fs->hold(FsOp::FsyncDir, "/attic/acct");
    auto worker1 = std::async(std::launch::async, [&] { f.store->move_to_attic(file_a); });
    gate->wait_arrived();
    auto worker2 = std::async(std::launch::async, [&] { f.store->move_to_attic(file_b); });
    run_while_held(worker2, *gate);
    worker1.get();
    const auto log = f.fs->log();
    INFO(Catch::Detail::stringify(log));
    auto fsynced = [&](const std::string& dir) {
        return std::count(log.begin(), log.end(), "fsync_dir " + f.dir.path() + dir);
    };
    CHECK(fsynced("") == 1);
    CHECK(fsynced("/attic") == 1);
    CHECK(fsynced("/attic/acct") == 3);  // the tree once, and once for each new sub-folder
}
