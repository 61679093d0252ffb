// A dry run's store (issue 11: "--dry-run creates the store folder, .lock and
// catalog.sqlite"): the read-only message store and the catalog snapshot
// create nothing, change nothing, and refuse writes loudly.
#include <catch2/catch.hpp>

#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sys/wait.h>
#include <unistd.h>

#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::map<std::string, std::pair<std::uintmax_t, fs::file_time_type>> listing(const std::string& root) {
    std::map<std::string, std::pair<std::uintmax_t, fs::file_time_type>> out;
    if (!fs::exists(root)) return out;
    for (const auto& e : fs::recursive_directory_iterator(root))
        out[e.path().string()] = {e.is_regular_file() ? e.file_size() : 0, e.last_write_time()};
    return out;
}

// Every file's bytes, by path.
std::map<std::string, std::string> contents(const std::string& root) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (!e.is_regular_file()) continue;
        std::ifstream in(e.path(), std::ios::binary);
        out[e.path().string()].assign(std::istreambuf_iterator<char>(in), {});
    }
    return out;
}

// A store with one committed message in INBOX; returns its file.
std::string seed(const std::string& root) {
    auto store = open_maildir_store(root);
    const std::string folder = store->folder_for("INBOX", "/");
    store->create_folder("acct", folder);
    store->create_folder("acct", store->folder_for("Empty", "/"));
    auto pending = store->begin("acct", folder);
    pending->write("Subject: x\r\n\r\nbody\r\n");
    pending->finish();
    store->sync_pending();
    auto file = store->commit(*pending, "acct", folder, 1, 1700000000, {"\\Seen"});
    store->sync_committed();
    return file;
}

}  // namespace

TEST_CASE("a read-only message store creates nothing and refuses every change", "[store][dry-run]") {
    TempDir dir;
    SECTION("no store yet: the root is not created") {
        MaildirOptions options;
        options.read_only = true;
        auto store = open_maildir_store(dir / "none", options);
        CHECK_THROWS_AS(store->begin("acct", store->folder_for("INBOX", "/")), StoreError);
        CHECK_FALSE(fs::exists(dir / "none"));
    }
    SECTION("an existing store: reads work, writes throw, nothing changes") {
        const std::string file = seed(dir / "s");
        const auto before = listing(dir / "s");
        MaildirOptions options;
        options.read_only = true;
        auto store = open_maildir_store(dir / "s", options);
        CHECK(fs::exists(store->absolute(store->locate(file))));
        const std::function<void()> writes[] = {
            [&] { store->begin("acct", store->folder_for("INBOX", "/")); },
            [&] { store->set_flags(file, {"\\Flagged"}); },
            [&] { store->move_to_attic(file); },
            [&] { store->remove(file); },
            [&] { store->set_uid(file, 2); },
            [&] { store->create_folder("acct", store->folder_for("New", "/")); },
            [&] { store->rename_folder("acct", store->folder_for("INBOX", "/"), store->folder_for("Other", "/")); },
            [&] { store->remove_folder("acct", store->folder_for("Empty", "/")); },
        };
        for (const auto& w : writes) CHECK_THROWS_WITH(w(), Catch::Contains("read-only (dry run)"));
        CHECK(listing(dir / "s") == before);
    }
}

TEST_CASE("a catalog snapshot is a copy: the file is never changed", "[store][dry-run]") {
    TempDir dir;
    const std::string path = dir / "catalog.sqlite";
    SECTION("no file: an empty catalog, and no file made") {
        auto snapshot = open_sqlite_catalog_snapshot(path);
        CHECK(snapshot->mailboxes(snapshot->ensure_account("a")).empty());
        snapshot.reset();
        CHECK_FALSE(fs::exists(path));
        CHECK(listing(dir.path()).empty());
    }
    SECTION("a file: the copy holds its rows; writes to the copy stay there") {
        {
            auto catalog = open_sqlite_catalog(path);
            catalog->ensure_account("original");
        }
        const auto before = listing(dir.path());
        {
            auto snapshot = open_sqlite_catalog_snapshot(path);
            CHECK(snapshot->find_account("original"));
            snapshot->ensure_account("added-to-the-copy");
            CHECK(snapshot->find_account("added-to-the-copy"));
        }
        CHECK(listing(dir.path()) == before);
        auto catalog = open_sqlite_catalog(path);
        CHECK_FALSE(catalog->find_account("added-to-the-copy"));
    }
    SECTION("a log left by a killed writer: read whole, and not a byte of any file changes") {
        {
            auto catalog = open_sqlite_catalog(path);
            catalog->ensure_account("checkpointed-or-not");
        }
        // The writer dies with its last commit only in the log, its index
        // (-shm) never closed.
        const pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            auto catalog = open_sqlite_catalog(path);
            catalog->ensure_account("only-in-the-log");
            std::_Exit(0);
        }
        int status = 0;
        REQUIRE(waitpid(child, &status, 0) == child);
        REQUIRE(WIFEXITED(status));
        REQUIRE(fs::exists(path + "-wal"));
        const auto before = listing(dir.path());
        const auto bytes_before = contents(dir.path());
        {
            auto snapshot = open_sqlite_catalog_snapshot(path);
            CHECK(snapshot->find_account("checkpointed-or-not"));
            CHECK(snapshot->find_account("only-in-the-log"));
        }
        CHECK(sqlite_catalog_file_version(path) == catalog_schema_version());
        CHECK(listing(dir.path()) == before);
        CHECK(contents(dir.path()) == bytes_before);
    }
    SECTION("a file that is not a catalog is an error, and stays as it is") {
        { std::ofstream(path) << "not a database at all, just some text that is long enough"; }
        const auto before = listing(dir.path());
        CHECK_THROWS_AS(open_sqlite_catalog_snapshot(path), StoreError);
        CHECK(listing(dir.path()) == before);
    }
}
