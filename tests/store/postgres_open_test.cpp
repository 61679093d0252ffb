// Opening a PostgreSQL catalog that is already at this build's version takes
// no migration lock: a fleet's workers open one catalog connection per
// parallel mailbox of each account, and must not queue behind each other (or
// behind a slow migration of another schema version's process) to learn that
// nothing is to be done.
#include <catch2/catch.hpp>
#include <chrono>

#include "catalog_backends.hpp"
#include "store/postgres/pg_migrations.hpp"

using namespace std::chrono_literals;

TEST_CASE("opening a PostgreSQL catalog at this version waits for no migration lock",
          "[store][catalog][postgres]") {
    auto backend = imapkeep::test::make_postgres_backend();
    if (!backend) return;
    backend->open();  // made and migrated
    const auto key = imapkeep::store::postgres_lock_key("migrations", backend->schema());
    backend->admin().query("SELECT pg_advisory_lock($1)", key);
    const auto started = std::chrono::steady_clock::now();
    std::string error;
    try {
        auto catalog = backend->open();
        catalog->ensure_account("work");
    } catch (const std::exception& e) {
        error = e.what();
    }
    const auto waited = std::chrono::steady_clock::now() - started;
    backend->admin().query("SELECT pg_advisory_unlock($1)", key);
    CHECK(error.empty());
    CHECK(waited < 2s);
}
