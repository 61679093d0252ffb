// A PostgreSQL catalog that gives no session: a server that is down may be
// back for the next run (exit 75, "run it again"); settings that name a
// database or role the server does not have are a config error (exit 2),
// which no retry and no cron run will ever cure.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "cli_fixture.hpp"
#include "test_env.hpp"

using cli_test::CliFixture;

TEST_CASE("backup: an unreachable PostgreSQL catalog is temporary, a wrong one is a config error",
          "[backup][postgres]") {
    if (!imapkeep::testing::test_env_has({"IMAPKEEP_TEST_PG_URL"}, "the test PostgreSQL")) return;
    const std::string url = std::getenv("IMAPKEEP_TEST_PG_URL");
    const auto slash = url.rfind('/'), colon = url.rfind(':');
    struct Case {
        std::string why, catalog;
        int code;
    };
    const std::vector<Case> cases{
        {"no such database", url.substr(0, slash + 1) + "imapkeep_no_such_db", 2},
        {"nothing listens", url.substr(0, colon + 1) + "1" + url.substr(slash), 75},
    };
    for (const auto& c : cases) {
        CliFixture f;
        std::string text = "[store]\npath = \"" + f.store + "\"\ncatalog = \"" + c.catalog +
                           "\"\n\n[[account]]\nname = \"work\"\nhost = \"imap.invalid\"\n"
                           "user = \"me\"\npassword = \"hunter2-secret\"\n";
        std::ofstream(f.config, std::ios::trunc) << text;
        auto r = f.run({"backup", "--config", f.config});
        INFO(c.why << ": " << r.err);
        CHECK(r.code == c.code);
        CHECK_THAT(r.err, Catch::Contains("cannot connect to PostgreSQL"));
    }
}
