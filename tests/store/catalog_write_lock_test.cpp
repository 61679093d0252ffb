// The in-process writer lock of the SQLite catalog (src/store/catalog_write_lock.*).
// That writers take turns without losing a write is a contract test of every
// backend (catalog_contract_test.cpp).
#include <catch2/catch.hpp>
#include <chrono>
#include <imapkeep/store/sqlite_catalog.hpp>

#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::TempDir;

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
