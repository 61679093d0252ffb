// imapkeep status on a PostgreSQL catalog (issue 13), against the test
// PostgreSQL: it writes nothing (no schema made, none migrated), and shows
// the fleet's accounts (the registry) as fleet accounts, not as accounts
// "no longer in the config".
#include <catch2/catch.hpp>
#include <fstream>
#include <imapkeep/fleet/account_registry.hpp>
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
