// The fleet's list of accounts (fleet/account_registry.hpp).
#include <catch2/catch.hpp>

#include "fleet_fixture.hpp"

using namespace imapkeep::fleet;
using imapkeep::test::FleetFixture;

TEST_CASE("accounts are added once, listed by name, removed", "[fleet][accounts]") {
    FleetFixture f;
    if (!f.backend) return;
    auto db = f.connect();
    AccountRegistry registry(*db);
    FleetAccount a;
    a.name = "zed";
    a.host = "imap.example.org";
    a.port = 993;
    a.tls = "implicit";
    a.user = "zed@example.org";
    a.master_user = "backup";
    a.password_command = "cat /run/secrets/%m";
    a.interval_ms = 600000;
    registry.add(a);
    a.name = "amy";
    registry.add(a);
    CHECK_THROWS_AS(registry.add(a), FleetError);
    auto all = registry.list();
    REQUIRE(all.size() == 2);
    CHECK(all[0].name == "amy");
    CHECK(all[1].name == "zed");
    CHECK(all[1].master_user == "backup");
    CHECK(all[1].password_command == "cat /run/secrets/%m");
    CHECK(all[1].interval_ms == 600000);
    CHECK(all[1].port == 993);
    CHECK(registry.remove("amy"));
    CHECK_FALSE(registry.remove("amy"));
    CHECK(registry.list().size() == 1);
}

TEST_CASE("a fleet account name must be one plain path component", "[fleet][accounts]") {
    for (const char* bad : {"", ".hidden", "-x", "a/b", "a b", "..", "é"}) {
        INFO(bad);
        CHECK_FALSE(valid_fleet_account_name(bad));
    }
    for (const char* good : {"user1", "a.b@example.org", "x+y", "A_1-2"}) {
        INFO(good);
        CHECK(valid_fleet_account_name(good));
    }
}
