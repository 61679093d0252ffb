#include "cli/server_warnings.hpp"

#include <catch2/catch.hpp>

#include <sstream>

using namespace imapkeep;
using namespace imapkeep::cli;

TEST_CASE("skipped server data is reported once per account and kind", "[cli][warnings]") {
    Config config;
    config.accounts.resize(2);
    config.accounts[0].name = "a";
    config.accounts[1].name = "b";
    std::ostringstream err;
    report_skipped_server_data(config, err);
    // Two connections of one account share what was reported.
    auto a1 = config.accounts[0].connect.client.warning;
    auto a2 = config.accounts[0].connect.client;
    auto b = config.accounts[1].connect.client.warning;
    REQUIRE(a1);
    a1("skipped malformed FETCH data from the server (further ones silently): * 1 FETCH (X \x01)");
    a2.warning("skipped malformed FETCH data from the server (further ones silently): * 2 FETCH (Y)");
    a1("skipped malformed LIST data from the server (further ones silently): * LIST");
    b("skipped malformed FETCH data from the server (further ones silently): * 3 FETCH");
    CHECK(err.str() ==
          "imapkeep: a: warning: skipped malformed FETCH data from the server (further ones silently): "
          "* 1 FETCH (X \\x01)\n"
          "imapkeep: a: warning: skipped malformed LIST data from the server (further ones silently): * LIST\n"
          "imapkeep: b: warning: skipped malformed FETCH data from the server (further ones silently): "
          "* 3 FETCH\n");
}
