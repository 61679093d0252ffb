// The log a run leaves behind is checkpointed by the next process that opens
// the catalog, on a thread of its own, while that process waits for the
// server (issue 10: the checkpoint used to land in some worker's commit, on
// the run's critical path).
#include <catch2/catch.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <sqlite3.h>

#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::TempDir;

namespace {

// Rows in the database file alone: immutable=1 reads no write-ahead log, so
// what only the log holds is not counted.
std::int64_t accounts_in_database_file(const std::string& path) {
    sqlite3* db = nullptr;
    const std::string uri = "file:" + path + "?immutable=1";
    REQUIRE(sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) == SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    std::int64_t n = 0;  // no table yet: its creation is in the log too
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM account", -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

}  // namespace

TEST_CASE("opening a catalog checkpoints the log an earlier process left, in the background",
          "[store][sqlite][checkpoint]") {
    TempDir dir;
    const std::string path = dir / "catalog.sqlite";
    {
        auto catalog = open_sqlite_catalog(path);
    }
    {
        auto catalog = open_sqlite_catalog(path);
        // A few commits: far below the commit-time checkpoint's threshold,
        // so only the log holds them when this process closes.
        for (int i = 0; i < 20; ++i) {
            catalog->begin();
            catalog->ensure_account("account" + std::to_string(i));
            catalog->commit();
        }
    }
    REQUIRE(accounts_in_database_file(path) < 20);
    {
        auto catalog = open_sqlite_catalog(path);
        CHECK(catalog->find_account("account19"));
    }  // the last catalog of the file closes once the checkpoint ended
    CHECK(accounts_in_database_file(path) == 20);
}
