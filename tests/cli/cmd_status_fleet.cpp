// imapkeep status on a PostgreSQL catalog (issue 13), against the test
// PostgreSQL: it writes nothing (no schema made, none migrated), and shows
// the fleet's accounts (the registry) as fleet accounts, not as accounts
// "no longer in the config"; and a worker's run as running while its lease
// holds, interrupted once the lease ended (no store lock tells it).
#include <catch2/catch.hpp>
#include <fstream>
#include <imapkeep/fleet/account_registry.hpp>
#include <imapkeep/fleet/lease.hpp>
#include <imapkeep/store/postgres_catalog.hpp>
#include <thread>
#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"
#include "store/catalog_backends.hpp"

using cli_test::CliFixture;
using namespace imapkeep;

namespace {

void write_postgres_config(const CliFixture& f, const test::PostgresBackend& pg) {
    std::ofstream(f.config) << "[store]\npath = \"" << f.store << "\"\ncatalog = \""
                            << pg.conninfo() << "\"\ncatalog_schema = \"" << pg.schema()
                            << "\"\n\n[[account]]\nname = \"work\"\nhost = \"imap.invalid\"\n"
                            << "user = \"me\"\npassword = \"hunter2-secret\"\n";
}

bool schema_exists(test::PostgresBackend& pg) {
    return pg.admin()
               .query("SELECT count(*) FROM pg_namespace WHERE nspname = $1::text", pg.schema())
               .int64(0, 0) == 1;
}

void register_fleet_account(const test::PostgresBackend& pg, const std::string& name) {
    fleet::FleetDb db({pg.conninfo(), pg.schema()});
    fleet::FleetAccount a;
    a.name = name;
    a.host = "imap.example.org";
    a.user = name;
    a.password_command = "cat /run/secrets/%u";
    fleet::AccountRegistry(db).add(a);
}

const nlohmann::json* account_named(const nlohmann::json& status, const std::string& name) {
    for (const auto& a : status["accounts"])
        if (a["name"] == name) return &a;
    return nullptr;
}

}  // namespace

TEST_CASE("status on a PostgreSQL catalog creates no schema", "[status][postgres]") {
    auto pg = test::make_postgres_backend();
    if (!pg) return;
    CliFixture f;
    write_postgres_config(f, *pg);
    auto r = f.run({"status", "--config", f.config});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK_FALSE(schema_exists(*pg));
}

TEST_CASE("status shows the fleet's accounts as fleet accounts, not as dropped from the config",
          "[status][postgres][fleet]") {
    auto pg = test::make_postgres_backend();
    if (!pg) return;
    CliFixture f;
    write_postgres_config(f, *pg);
    register_fleet_account(*pg, "fleet01");  // backed up
    register_fleet_account(*pg, "fleet02");  // not yet
    {
        auto catalog = pg->open();
        catalog->ensure_account("fleet01");
        catalog->ensure_account("retired");  // in no config and no fleet
    }
    auto text = f.run({"status", "--config", f.config});
    INFO(text.err);
    CHECK(text.code == 0);
    CHECK_THAT(text.out, Catch::Contains("\nfleet01 (fleet account): 0 messages"));
    CHECK_THAT(text.out, Catch::Contains("\nfleet02 (fleet account): 0 messages"));
    CHECK_THAT(text.out, Catch::Contains("\nretired (no longer in the config)"));
    CHECK_THAT(text.out, Catch::Contains("\nwork: 0 messages"));

    auto json = f.run({"status", "--config", f.config, "--json"});
    REQUIRE(json.code == 0);
    const auto status = nlohmann::json::parse(json.out);
    const auto* fleet01 = account_named(status, "fleet01");
    REQUIRE(fleet01);
    CHECK((*fleet01)["fleet"] == true);
    CHECK((*fleet01)["configured"] == false);
    const auto* retired = account_named(status, "retired");
    REQUIRE(retired);
    CHECK((*retired)["fleet"] == false);
    CHECK((*account_named(status, "work"))["fleet"] == false);
}

TEST_CASE("status shows a worker's run as running while its lease holds, interrupted after",
          "[status][postgres][fleet]") {
    using namespace std::chrono_literals;
    auto pg = test::make_postgres_backend();
    if (!pg) return;
    CliFixture f;
    write_postgres_config(f, *pg);
    register_fleet_account(*pg, "fleet01");
    fleet::FleetDb db({pg->conninfo(), pg->schema()});
    auto lease = fleet::Leases(db).claim("worker-a", 1500ms);
    REQUIRE(lease);
    store::PostgresCatalogOptions options;
    options.conninfo = pg->conninfo();
    options.schema = pg->schema();
    options.fence = store::PostgresWriteFence{lease->account.name, lease->owner, lease->generation, {}, 0ms};
    store::open_postgres_catalog(options)->begin_run("backup", 1'700'000'000);  // never finished

    auto last_run_status = [&] {
        auto r = f.run({"status", "--config", f.config, "--json"});
        INFO(r.err);
        REQUIRE(r.code == 0);
        return nlohmann::json::parse(r.out)["last_run"]["status"].get<std::string>();
    };
    CHECK(last_run_status() == "running");  // no store lock: the lease says so
    std::this_thread::sleep_for(1700ms);    // the worker died: its lease expired
    CHECK(last_run_status() == "interrupted");
}
