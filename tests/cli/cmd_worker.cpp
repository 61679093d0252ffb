// A fleet row as the engine's account (fleet_account_config, cmd_worker.cpp):
// the template's settings with the row's over them, and the refusals.
#include <catch2/catch.hpp>
#include <imapkeep/fleet/fleet_account.hpp>

#include "cli/commands.hpp"

using namespace imapkeep;
using namespace imapkeep::cli;

namespace {

const std::string kFleetConfig =
    "[store]\npath = \"/srv/mail\"\ncatalog = \"host=db dbname=mail\"\n"
    "[[account]]\nname = \"hosting\"\nhost = \"imap.example.net\"\nport = 1993\n"
    "user = \"template\"\nmaster_user = \"backup\"\npassword_command = \"printf template-secret\"\n"
    "ca_file = \"/etc/ca.pem\"\nconnections = 2\n";

fleet::FleetAccount row(const std::string& name) {
    fleet::FleetAccount a;
    a.name = name;
    a.user = name + "@example.net";
    a.template_account = "hosting";
    return a;
}

}  // namespace

TEST_CASE("a fleet account takes its template's settings under its own", "[worker]") {
    const Config config = parse_config(kFleetConfig, "/etc/imapkeep/fleet.toml");
    auto account = fleet_account_config(config, row("amy"));
    CHECK(account.name == "amy");
    CHECK(account.connect.host == "imap.example.net");
    CHECK(account.connect.port == 1993);
    CHECK(account.connect.user == "amy@example.net");
    CHECK(account.connect.master_user == "backup");
    CHECK(account.connect.tls_options.ca_file == "/etc/ca.pem");
    CHECK(account.connections == 2);
    CHECK(account.connect.password() == "template-secret");

    auto own = row("bob");
    own.host = "imap2.example.net";
    own.tls = "starttls";
    own.master_user = "other";
    own.password_command = "printf 'for %u'";
    auto b = fleet_account_config(config, own);
    CHECK(b.connect.host == "imap2.example.net");
    CHECK(b.connect.tls == imap::TlsMode::StartTls);
    CHECK(b.connect.port == 143);  // its own tls, no port: that mode's default
    CHECK(b.connect.master_user == "other");
    CHECK(b.connect.password() == "for bob@example.net");
}

TEST_CASE("a fleet account without a template needs its own host and password command",
          "[worker]") {
    const Config config = parse_config(kFleetConfig, "/etc/imapkeep/fleet.toml");
    auto bare = row("cy");
    bare.template_account = "";
    CHECK_THROWS_WITH(fleet_account_config(config, bare), Catch::Contains("no host"));
    bare.host = "imap.example.net";
    CHECK_THROWS_WITH(fleet_account_config(config, bare), Catch::Contains("no password command"));
    bare.password_command = "cat /run/secrets/%u";
    auto account = fleet_account_config(config, bare);
    CHECK(account.connect.port == 993);
    CHECK(account.connect.tls == imap::TlsMode::Implicit);
    auto unknown = row("dee");
    unknown.template_account = "nope";
    CHECK_THROWS_WITH(fleet_account_config(config, unknown), Catch::Contains("template \"nope\""));
}

TEST_CASE("a config with a PostgreSQL catalog may have no [[account]]", "[worker][config]") {
    CHECK(parse_config("[store]\npath = \"/srv/mail\"\ncatalog = \"host=db\"\n", "f.toml")
              .accounts.empty());
    CHECK_THROWS_WITH(parse_config("[store]\npath = \"/srv/mail\"\n", "f.toml"),
                      Catch::Contains("account"));
}
