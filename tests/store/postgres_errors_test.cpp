// A PostgreSQL error another attempt may not meet (a lock wait that timed
// out, a lost connection, a server shutting down) is transient: the backup's
// retry policy applies, as to a dropped IMAP connection, and a fleet's
// account is tried again rather than failed (issue 13: a gc sweep holding a
// blob's mark made a writer's claim time out, a hard error).
#include <catch2/catch.hpp>

#include "catalog_backends.hpp"

using namespace imapkeep;

namespace {

struct Outcome {
    bool thrown = false;
    bool transient = false;
    std::string what;
};

template <class Body>
Outcome outcome_of(Body&& body) {
    Outcome o;
    try {
        body();
    } catch (const store::StoreError& e) {
        o.thrown = true;
        o.transient = e.transient();
        o.what = e.what();
    }
    return o;
}

}  // namespace

TEST_CASE("PostgreSQL errors another attempt may not meet are transient",
          "[store][postgres]") {
    auto backend = test::make_postgres_backend();
    if (!backend) return;
    backend->open();  // the schema
    auto& admin = backend->admin();
    const std::string table = admin.quote_identifier(backend->schema()) + ".errors_test";
    admin.exec("CREATE TABLE " + table + " (id integer PRIMARY KEY)");
    admin.exec("INSERT INTO " + table + " VALUES (1)");

    SECTION("a lock wait that timed out") {
        store::PgConnection holder(backend->conninfo());
        holder.exec("BEGIN");
        holder.exec("SELECT id FROM " + table + " WHERE id = 1 FOR UPDATE");
        store::PgConnection waiter(backend->conninfo());
        waiter.exec("SET lock_timeout TO '50ms'");
        auto o = outcome_of([&] { waiter.exec("UPDATE " + table + " SET id = 1 WHERE id = 1"); });
        holder.exec("ROLLBACK");
        INFO(o.what);
        CHECK(o.thrown);
        CHECK(o.transient);
    }
    SECTION("a connection the server ended") {
        store::PgConnection victim(backend->conninfo());
        const auto pid = victim.exec("SELECT pg_backend_pid()").int64(0, 0);
        admin.query("SELECT pg_terminate_backend($1::integer)", pid);
        auto o = outcome_of([&] {
            for (int i = 0; i < 100; ++i) victim.exec("SELECT 1");  // until the end reaches it
        });
        INFO(o.what);
        CHECK(o.thrown);
        CHECK(o.transient);
    }
    SECTION("a statement that is wrong stays a hard error") {
        store::PgConnection c(backend->conninfo());
        for (const std::string& sql : {std::string("SELEC 1"), "INSERT INTO " + table + " VALUES (1)"}) {
            auto o = outcome_of([&] { c.exec(sql); });
            INFO(sql << ": " << o.what);
            CHECK(o.thrown);
            CHECK_FALSE(o.transient);
        }
    }
}

namespace {

// The test server's URL with its user, port or database swapped.
std::string swapped(std::string url, const std::string& what, const std::string& with) {
    const auto at = url.find('@'), colon = url.rfind(':'), slash = url.rfind('/');
    const auto scheme = url.find("://") + 3;
    if (what == "user") return url.replace(scheme, at - scheme, with);
    if (what == "port") return url.replace(colon + 1, slash - colon - 1, with);
    return url.replace(slash + 1, std::string::npos, with);  // the database
}

}  // namespace

// A catalog server that is down, starting or full may be back for the next
// run (exit 75, a fleet retries); wrong settings stay wrong until the user
// fixes them (exit 2, store_session.cpp), and must not be retried for ever.
TEST_CASE("PostgreSQL that cannot be reached is transient; wrong settings are not",
          "[store][postgres]") {
    if (!testing::test_env_has({"IMAPKEEP_TEST_PG_URL"}, "the test PostgreSQL")) return;
    const std::string url = std::getenv("IMAPKEEP_TEST_PG_URL");
    struct Case {
        std::string why, conninfo;
        bool transient;
    };
    const std::vector<Case> cases{
        {"nothing listens on the port", swapped(url, "port", "1"), true},
        {"no such database", swapped(url, "database", "imapkeep_no_such_db"), false},
        {"no such role", swapped(url, "user", "imapkeep_no_such_role"), false},
        {"a conninfo libpq cannot parse", "host=127.0.0.1 imapkeep_no_such_option=1", false},
    };
    for (const auto& c : cases) {
        INFO(c.why << ": " << c.conninfo);
        bool thrown = false;
        try {
            store::PgConnection connection(c.conninfo);
        } catch (const store::CatalogUnreachable& e) {
            thrown = true;
            INFO(e.what());
            CHECK(e.transient() == c.transient);
        }
        CHECK(thrown);
    }
}
