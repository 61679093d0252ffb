// The store contract tests run on every catalog backend: each test case asks
// for IMAPKEEP_CATALOG_BACKEND(), Catch2 runs it once per backend, and
// make_catalog_backend() gives a fresh, empty catalog of that kind:
// - "sqlite": a file in a temp dir;
// - "postgres": a schema of its own in the test PostgreSQL
//   (IMAPKEEP_TEST_PG_URL, scripts/test-env/postgres.sh), dropped afterwards.
// Without IMAPKEEP_TEST_PG_URL the postgres run FAILS under the test command
// (IMAPKEEP_TEST_REQUIRE_SERVERS=1) and is skipped, visibly, by hand.
#pragma once

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <imapkeep/store/postgres_catalog.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "store/postgres/pg_connection.hpp"
#include "temp_dir.hpp"
#include "test_env.hpp"

namespace imapkeep::test {

class CatalogBackend {
  public:
    virtual ~CatalogBackend() = default;
    // A new connection to this backend's catalog (the first one creates it).
    virtual std::unique_ptr<store::Catalog> open() = 0;
};

class SqliteBackend final : public CatalogBackend {
  public:
    std::unique_ptr<store::Catalog> open() override { return store::open_sqlite_catalog(path()); }
    std::string path() const { return m_dir / "catalog.sqlite"; }

  private:
    TempDir m_dir;
};

class PostgresBackend final : public CatalogBackend {
  public:
    explicit PostgresBackend(const std::string& url) : m_url(url), m_admin(url) {}
    ~PostgresBackend() override {
        try {
            m_admin.exec("DROP SCHEMA IF EXISTS " + m_admin.quote_identifier(m_schema) +
                         " CASCADE");
        } catch (const std::exception& e) {
            WARN("could not drop the test schema " << m_schema << ": " << e.what());
        }
    }

    std::unique_ptr<store::Catalog> open() override { return open(true); }
    std::unique_ptr<store::Catalog> open(bool serialize_writers) {
        store::PostgresCatalogOptions options;
        options.conninfo = conninfo();
        options.schema = m_schema;
        options.serialize_writers = serialize_writers;
        return store::open_postgres_catalog(options);
    }
    const std::string& schema() const { return m_schema; }
    // The URL with application_name = the schema: this test's connections,
    // told apart in pg_stat_activity.
    std::string conninfo() const {
        const bool uri = m_url.rfind("postgresql://", 0) == 0 || m_url.rfind("postgres://", 0) == 0;
        if (!uri) return m_url + " application_name=" + m_schema;
        return m_url + (m_url.find('?') == std::string::npos ? "?" : "&") +
               "application_name=" + m_schema;
    }
    // Cuts every connection of this test's catalogs, as a server restart would.
    // Returns once they are gone (pg_terminate_backend only signals).
    void cut_connections() {
        m_admin.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
            "$1::text",
            m_schema);
        for (int i = 0; i < 500; ++i) {
            if (m_admin
                    .query(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1::text",
                        m_schema)
                    .int64(0, 0) == 0)
                return;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        FAIL("the test catalog's connections are still there 5 s after pg_terminate_backend");
    }
    const std::string& url() const { return m_url; }
    // A connection of its own, outside any catalog: to look at or damage the tables.
    store::PgConnection& admin() { return m_admin; }

  private:
    static std::string fresh_schema() {
        static std::atomic<int> counter{0};
        std::random_device random;
        return "imapkeep_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) +
               "_" + std::to_string(random() % 100000);
    }

    std::string m_url;
    store::PgConnection m_admin;
    std::string m_schema = fresh_schema();
};

inline std::unique_ptr<PostgresBackend> make_postgres_backend() {
    if (!testing::test_env_has({"IMAPKEEP_TEST_PG_URL"}, "the test PostgreSQL")) return nullptr;
    return std::make_unique<PostgresBackend>(std::getenv("IMAPKEEP_TEST_PG_URL"));
}

// nullptr when the backend is missing and the test may skip (see above).
inline std::unique_ptr<CatalogBackend> make_catalog_backend(const std::string& name) {
    if (name == "sqlite") return std::make_unique<SqliteBackend>();
    if (name == "postgres") return make_postgres_backend();
    FAIL("unknown catalog backend " << name);
    return nullptr;
}

}  // namespace imapkeep::test

// Every catalog backend, one run of the test case each.
#define IMAPKEEP_CATALOG_BACKEND() GENERATE(as<std::string>{}, "sqlite", "postgres")

// `Type f` built from a fresh backend `name` (Type's constructor takes the
// std::unique_ptr<CatalogBackend>); returns (skips) when the backend is
// missing and may be.
#define IMAPKEEP_CATALOG_FIXTURE_ON(Type, f, name)                 \
    auto f##_backend = imapkeep::test::make_catalog_backend(name); \
    if (!f##_backend) return;                                      \
    Type f(std::move(f##_backend))

// `auto var`, a catalog of each backend in turn (one run of the test case per
// backend), for tests of code that takes a Catalog&.
#define IMAPKEEP_EACH_CATALOG(var)                                                 \
    const std::string var##_backend_name = IMAPKEEP_CATALOG_BACKEND();             \
    INFO("catalog backend: " << var##_backend_name);                               \
    auto var##_backend = imapkeep::test::make_catalog_backend(var##_backend_name); \
    if (!var##_backend) return;                                                    \
    auto var = var##_backend->open()

// `Type f` on each backend in turn: one run of the test case per backend.
#define IMAPKEEP_CATALOG_FIXTURE(Type, f)                            \
    const std::string f##_backend_name = IMAPKEEP_CATALOG_BACKEND(); \
    INFO("catalog backend: " << f##_backend_name);                   \
    IMAPKEEP_CATALOG_FIXTURE_ON(Type, f, f##_backend_name)
