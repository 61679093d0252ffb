// imapkeep backup with a fleet-only config (a PostgreSQL catalog, no
// [[account]]: its accounts are `imapkeep worker`'s): it says why nothing
// happened and what to run, and exits 2 (a config that gives backup nothing
// to do) before opening any store. A config without accounts and without a
// PostgreSQL catalog is refused when it is read (config.cpp).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "cli_fixture.hpp"

using cli_test::CliFixture;

namespace {

void write_config_without_accounts(const CliFixture& f, const std::string& store_extra) {
    std::ofstream(f.config) << "[store]\npath = \"" << f.store << "\"\n" << store_extra;
}

}  // namespace

TEST_CASE("backup with a fleet-only config points to imapkeep worker", "[backup][fleet]") {
    CliFixture f;
    // Never connected to: the message comes before any store is opened.
    write_config_without_accounts(
        f, "catalog = \"postgresql://imapkeep@db.invalid/mail\"\ncatalog_schema = \"fleet\"\n");
    auto r = f.run({"backup", "--config", f.config});
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("nothing to back up"));
    CHECK_THAT(r.err, Catch::Contains("no [[account]]"));
    CHECK_THAT(r.err, Catch::Contains("imapkeep worker"));
    CHECK_FALSE(std::filesystem::exists(f.store));
}
