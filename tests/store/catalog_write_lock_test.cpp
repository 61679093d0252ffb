// The in-process writer lock of the SQLite catalog (src/store/catalog_write_lock.*).
#include <catch2/catch.hpp>
#include <chrono>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <thread>
#include <vector>

#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::TempDir;

TEST_CASE("catalog writers in one process take turns without losing a write",
          "[store][catalog][lock]") {
    TempDir dir;
    const std::string path = dir / "catalog.sqlite";
    open_sqlite_catalog(path);  // creates the schema once
    constexpr int kThreads = 4, kEach = 60;
    std::vector<std::thread> threads;
    std::vector<std::string> errors(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            try {
                auto catalog = open_sqlite_catalog(path);
                for (int i = 0; i < kEach; ++i) {
                    catalog->begin();
                    catalog->ensure_account("t" + std::to_string(t) + "-" + std::to_string(i));
                    if (i % 7 == 0) {
                        catalog->rollback();  // a rolled-back writer frees the lock too
                    } else {
                        catalog->commit();
                    }
                }
            } catch (const std::exception& e) {
                errors[t] = e.what();
            }
        });
    }
    for (auto& t : threads) t.join();
    for (const auto& e : errors) CHECK(e.empty());
    auto catalog = open_sqlite_catalog(path);
    for (int t = 0; t < kThreads; ++t)
        for (int i = 0; i < kEach; ++i)
            CHECK(catalog->find_account("t" + std::to_string(t) + "-" + std::to_string(i))
                      .has_value() == (i % 7 != 0));
}

TEST_CASE("a thread writing through two connections to one catalog fails at once",
          "[store][catalog][lock]") {
    // SQLite alone made the second BEGIN IMMEDIATE wait out its 10 s busy
    // timeout; waiting on a lock this thread holds can never succeed.
    TempDir dir;
    const std::string path = dir / "catalog.sqlite";
    auto first = open_sqlite_catalog(path);
    auto second = open_sqlite_catalog(dir.path() + "/./catalog.sqlite");  // another spelling
    first->begin();
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(second->begin(), StoreError);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    first->commit();
    // Once the first committed, the second writes normally.
    second->begin();
    second->ensure_account("after");
    second->commit();
    CHECK(first->find_account("after").has_value());
}

TEST_CASE("an in-memory snapshot needs no writer lock", "[store][catalog][lock]") {
    TempDir dir;
    const std::string path = dir / "catalog.sqlite";
    auto live = open_sqlite_catalog(path);
    auto snapshot = open_sqlite_catalog_snapshot(path);
    live->begin();
    snapshot->begin();  // its own in-memory database: no wait, no error
    snapshot->ensure_account("dry");
    snapshot->commit();
    live->commit();
    CHECK_FALSE(live->find_account("dry").has_value());
}
