// Password command templates (fleet/password_template.hpp).
#include <catch2/catch.hpp>
#include <imapkeep/fleet/account_registry.hpp>
#include <imapkeep/fleet/password_template.hpp>

using namespace imapkeep::fleet;

TEST_CASE("password command templates expand quoted values", "[fleet][password]") {
    FleetAccount a;
    a.name = "acme-bob";
    a.user = "bob@acme.example";
    a.master_user = "backup";
    struct Case {
        const char* pattern;
        const char* expanded;
    } cases[] = {
        {"cat /run/secrets/%u", "cat /run/secrets/'bob@acme.example'"},
        {"pass show mail/%a", "pass show mail/'acme-bob'"},
        {"vault read -field=pw secret/%m", "vault read -field=pw secret/'backup'"},
        {"printf 100%%", "printf 100%"},
        {"no template", "no template"},
    };
    for (const auto& c : cases) {
        INFO(c.pattern);
        CHECK(expand_password_command(c.pattern, a) == c.expanded);
    }
}

TEST_CASE("a user name cannot add words or commands to a password command", "[fleet][password]") {
    FleetAccount a;
    a.name = "x";
    a.user = "a'; rm -rf / #";
    CHECK(expand_password_command("cat %u", a) == "cat 'a'\\''; rm -rf / #'");
}

TEST_CASE("unknown or unfinished % sequences are refused", "[fleet][password]") {
    FleetAccount a;
    a.name = "x";
    for (const char* bad : {"cat %x", "cat %", "%U"}) {
        INFO(bad);
        CHECK_THROWS_AS(expand_password_command(bad, a), FleetError);
    }
}
