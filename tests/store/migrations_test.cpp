#include "store/migrations.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <sstream>

#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::TempDir;

namespace {

std::int64_t table_count(SqliteDb& db, const std::string& name) {
    auto s = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1");
    s.bind(1, name);
    REQUIRE(s.step());
    return s.int64(0);
}

}  // namespace

TEST_CASE("migration_version reads the leading number", "[store][migrations]") {
    struct Case {
        std::string name;
        int version;  // 0 = must throw
    };
    const std::vector<Case> cases = {
        {"0001_init.sql", 1}, {"0012_more.sql", 12}, {"7.sql", 7},
        {"init.sql", 0},      {"0000_zero.sql", 0},  {"", 0},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        if (c.version == 0)
            CHECK_THROWS_AS(migration_version(c.name), StoreError);
        else
            CHECK(migration_version(c.name) == c.version);
    }
}

TEST_CASE("check_migrations wants 1, 2, 3 in order", "[store][migrations]") {
    CHECK_NOTHROW(check_migrations({{"0001_a.sql", ""}, {"0002_b.sql", ""}}));
    CHECK_THROWS_AS(check_migrations({{"0002_a.sql", ""}}), StoreError);
    CHECK_THROWS_AS(check_migrations({{"0001_a.sql", ""}, {"0001_b.sql", ""}}), StoreError);
    CHECK_THROWS_AS(check_migrations({{"0001_a.sql", ""}, {"0003_b.sql", ""}}), StoreError);
}

TEST_CASE("compiled migrations are schema/*.sql byte for byte", "[store][migrations]") {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(IMAPKEEP_SOURCE_DIR "/schema"))
        if (entry.path().extension() == ".sql") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    const auto& compiled = compiled_migrations();
    REQUIRE(compiled.size() == files.size());
    REQUIRE_FALSE(compiled.empty());
    for (std::size_t i = 0; i < files.size(); ++i) {
        std::ifstream in(files[i], std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        CHECK(compiled[i].name == files[i].filename().string());
        CHECK(compiled[i].sql == text.str());
    }
    CHECK(catalog_schema_version() == static_cast<int>(compiled.size()));
}

TEST_CASE("migrations apply on an empty database and are idempotent", "[store][migrations]") {
    TempDir dir;
    const auto path = dir / "catalog.sqlite";
    {
        SqliteDb db(path);
        CHECK(db.pragma_int("user_version") == 0);
        apply_migrations(db, compiled_migrations());
        CHECK(db.pragma_int("user_version") == catalog_schema_version());
        for (const char* table : {"account", "mailbox", "message", "flag_history", "uid_history",
                                  "run", "restore_journal"}) {
            INFO(table);
            CHECK(table_count(db, table) == 1);
        }
        db.exec("INSERT INTO account(name) VALUES ('kept')");
        apply_migrations(db, compiled_migrations());  // nothing left to do
        CHECK(db.pragma_int("user_version") == catalog_schema_version());
    }
    // Re-opening through the catalog keeps the data and the version.
    auto catalog = open_sqlite_catalog(path);
    CHECK(catalog->find_account("kept").has_value());
    catalog.reset();
    auto again = open_sqlite_catalog(path);
    CHECK(again->account_names() == std::vector<std::string>{"kept"});
    SqliteDb check(path);
    CHECK(check.pragma_text("journal_mode") == "wal");
}

TEST_CASE("only the missing migrations run, each in its own transaction", "[store][migrations]") {
    TempDir dir;
    SqliteDb db(dir / "db.sqlite");
    const std::vector<Migration> v1 = {
        {"0001_a.sql", "CREATE TABLE a(x); INSERT INTO a VALUES (1);"}};
    apply_migrations(db, v1);
    CHECK(db.pragma_int("user_version") == 1);

    auto v3 = v1;
    v3.push_back({"0002_b.sql", "INSERT INTO a VALUES (2);"});
    v3.push_back({"0003_c.sql", "CREATE TABLE c(y); INSERT INTO nowhere VALUES (3);"});
    CHECK_THROWS_AS(apply_migrations(db, v3), StoreError);
    // 0002 stuck, 0003 rolled back entirely (no table c), and 0001 did not run twice.
    CHECK(db.pragma_int("user_version") == 2);
    CHECK(table_count(db, "c") == 0);
    auto s = db.prepare("SELECT group_concat(x) FROM a");
    REQUIRE(s.step());
    CHECK(s.text(0) == "1,2");
}

TEST_CASE("a catalog newer than the binary is refused clearly", "[store][migrations]") {
    TempDir dir;
    const auto path = dir / "catalog.sqlite";
    open_sqlite_catalog(path).reset();
    {
        SqliteDb db(path);
        db.exec("PRAGMA user_version = " + std::to_string(catalog_schema_version() + 1));
    }
    try {
        open_sqlite_catalog(path);
        FAIL("opened a newer catalog");
    } catch (const StoreError& e) {
        CHECK_THAT(e.what(), Catch::Contains("newer than this imapkeep supports"));
    }
}

TEST_CASE("a newer catalog is refused before anything writes to it", "[store][migrations]") {
    TempDir dir;
    const auto path = dir / "catalog.sqlite";
    {
        // A newer imapkeep may use another journal mode: the WAL switch
        // rewrites the header, so it must come after the version check.
        SqliteDb db(path);
        db.exec("PRAGMA journal_mode = DELETE");
        db.exec("CREATE TABLE future (x)");
        db.exec("PRAGMA user_version = " + std::to_string(catalog_schema_version() + 7));
    }
    auto bytes = [&] {
        std::ifstream in(path, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    };
    const std::string before = bytes();
    CHECK_THROWS_WITH(open_sqlite_catalog(path), Catch::Contains("newer than this imapkeep supports"));
    CHECK(bytes() == before);
    CHECK_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST_CASE("a file that is not a database is a StoreError", "[store][migrations]") {
    TempDir dir;
    const auto path = dir / "catalog.sqlite";
    std::ofstream(path) << "this is not an SQLite file, just some text that is long enough to "
                           "fill a header page and then some more text.";
    CHECK_THROWS_AS(open_sqlite_catalog(path), StoreError);
    CHECK_THROWS_AS(open_sqlite_catalog(dir / "missing-dir/catalog.sqlite"), StoreError);
}

TEST_CASE("an older catalog's mailboxes all get files_pending, so each folder is swept once",
          "[store][migrations][orphans]") {
    TempDir dir;
    const auto path = dir / "catalog.sqlite";
    const auto& all = compiled_migrations();
    std::vector<Migration> before;
    for (const auto& m : all)
        if (migration_version(m.name) < 4) before.push_back(m);
    REQUIRE(before.size() == 3);
    {
        SqliteDb db(path);
        apply_migrations(db, before);
        db.exec("INSERT INTO account(id, name) VALUES (1, 'work')");
        db.exec(
            "INSERT INTO mailbox(id, account_id, name, delimiter, folder, uidvalidity, uidnext,"
            " highestmodseq, mailboxid, sync_path) VALUES"
            " (1, 1, 'INBOX', '/', '', 7, 10, 0, '', 'plain'),"
            " (2, 1, 'A', '/', '.A', 7, 20, 0, '', 'plain')");
    }
    auto catalog = open_sqlite_catalog(path);
    CHECK(catalog->files_pending(1));
    CHECK(catalog->files_pending(2));
}

TEST_CASE("a message row's insert updates only the indexes queries use", "[store][migrations]") {
    // Every index of `message` is a random leaf page rewritten per insert.
    // Nothing looks a message up by SHA-256 or Message-ID (issue 10: the
    // sha256 index was half of the pages a 1% changed run wrote). Nor by its
    // file outside one mailbox's live rows (message_live_file) but the
    // orphan sweep after a killed run, which scans: message_file was a
    // random page per flag change (every rename changes the key), about a
    // quarter of a 1% changed run's log.
    TempDir dir;
    const std::string path = dir / "catalog.sqlite";
    open_sqlite_catalog(path);
    SqliteDb db(path);
    std::vector<std::string> indexes;
    auto s = db.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'message'"
        " AND sql IS NOT NULL ORDER BY name");
    while (s.step()) indexes.push_back(s.text(0));
    CHECK(indexes == std::vector<std::string>{"message_live_file", "message_live_uid", "message_mailbox"});
}
