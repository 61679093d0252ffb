// `imapkeep accounts import` files (fleet/account_file.hpp).
#include <catch2/catch.hpp>
#include <imapkeep/fleet/account_file.hpp>
#include <imapkeep/fleet/account_registry.hpp>

using namespace imapkeep::fleet;

TEST_CASE("a CSV of fleet accounts: columns by name, quotes, defaults", "[fleet][import]") {
    const auto accounts = parse_fleet_accounts_csv(
        "user,name,host,port,tls,master_user,password_command,template,interval_minutes\r\n"
        "bob@acme.example,bob,imap.acme.example,993,implicit,backup,\"cat "
        "\"\"/run/x/%m\"\"\",,30\r\n"
        "\n"
        "amy@acme.example,amy,,,,,,hosting,\n");
    REQUIRE(accounts.size() == 2);
    CHECK(accounts[0].name == "bob");
    CHECK(accounts[0].user == "bob@acme.example");
    CHECK(accounts[0].port == 993);
    CHECK(accounts[0].tls == "implicit");
    CHECK(accounts[0].master_user == "backup");
    CHECK(accounts[0].password_command == "cat \"/run/x/%m\"");
    CHECK(accounts[0].interval_ms == 30 * 60000);
    CHECK(accounts[1].template_account == "hosting");
    CHECK(accounts[1].port == 0);
    CHECK(accounts[1].interval_ms == FleetAccount{}.interval_ms);
}

TEST_CASE("a bad CSV of fleet accounts names its line and adds nothing", "[fleet][import]") {
    struct Case {
        const char* text;
        const char* error;
    } cases[] = {
        {"", "1: no header"},
        {"name,user,colour\n", "1: unknown column \"colour\""},
        {"name,host\n", "1: no column \"user\""},
        {"name,user\na,u\n.b,u\n", "3: name \".b\""},
        {"name,user\na,u\na,v\n", "3: account a is listed twice"},
        {"name,user,port\na,u,99999\n", "2: port \"99999\""},
        {"name,user,tls\na,u,ssl\n", "2: tls \"ssl\""},
        {"name,user\na,u,extra\n", "2: more fields"},
        {"name,user\na,\"u\n", "2: a quoted field is not closed"},
        {"name,user\na,\n", "2: account a: user is empty"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        CHECK_THROWS_WITH(parse_fleet_accounts_csv(c.text), Catch::StartsWith(c.error));
    }
}
