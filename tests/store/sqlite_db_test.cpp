#include "store/sqlite_db.hpp"

#include <catch2/catch.hpp>

using namespace imapkeep::store;

TEST_CASE("SqliteDb binds, steps and caches statements", "[store][sqlite]") {
    SqliteDb db(":memory:");
    db.exec("CREATE TABLE t(i INTEGER, s TEXT, n INTEGER)");
    const std::string insert = "INSERT INTO t VALUES (?1, ?2, ?3)";
    db.prepare(insert)
        .bind(1, std::int64_t{-5})
        .bind(2, std::string_view("a\0b", 3))
        .bind_null(3)
        .run();
    // Reused from the cache: the bindings of the previous use were cleared.
    db.prepare(insert)
        .bind(1, std::int64_t{1} << 62)
        .bind(2, "x")
        .bind(3, std::optional<std::int64_t>(7))
        .run();
    CHECK(db.last_insert_id() == 2);

    auto s = db.prepare("SELECT i, s, n FROM t ORDER BY rowid");
    REQUIRE(s.step());
    CHECK(s.int64(0) == -5);
    CHECK(s.text(1) == std::string("a\0b", 3));
    CHECK(s.is_null(2));
    CHECK_FALSE(s.optional_int64(2).has_value());
    REQUIRE(s.step());
    CHECK(s.int64(0) == (std::int64_t{1} << 62));
    CHECK(s.optional_int64(2) == 7);
    CHECK_FALSE(s.step());
}

TEST_CASE("SqliteDb errors name the SQL", "[store][sqlite]") {
    SqliteDb db(":memory:");
    try {
        db.prepare("SELECT * FROM no_such_table");
        FAIL("prepared a bad statement");
    } catch (const StoreError& e) {
        CHECK_THAT(e.what(), Catch::Contains("no_such_table"));
    }
    CHECK_THROWS_AS(db.exec("NOT SQL"), StoreError);
    db.exec("CREATE TABLE u(x UNIQUE)");
    const std::string insert = "INSERT INTO u VALUES (?1)";
    db.prepare(insert).bind(1, std::int64_t{1}).run();
    CHECK_THROWS_AS(db.prepare(insert).bind(1, std::int64_t{1}).run(), StoreError);
    // The cached statement was reset by the failure and works again.
    CHECK_NOTHROW(db.prepare(insert).bind(1, std::int64_t{2}).run());
    auto s = db.prepare("SELECT count(*) FROM u");
    REQUIRE(s.step());
    CHECK(s.int64(0) == 2);
}
