// imapkeep gc's command line without servers: a local store is refused with
// a reason, --grace and [store.s3] gc_grace parse durations and refuse the
// rest. Against RGW and PostgreSQL: tests/store/s3_gc_test.cpp and
// tests/integration/postgres_s3_store_test.cpp.
#include <catch2/catch.hpp>

#include "cli/config.hpp"
#include "cli/exit_codes.hpp"
#include "cli/gc_grace.hpp"
#include "cli_fixture.hpp"

using namespace imapkeep::cli;

namespace {

const std::string kS3Store =
    "[store]\npath = \"/srv/mail\"\nbackend = \"postgres+s3\"\n"
    "catalog = \"host=db dbname=mail\"\n"
    "[store.s3]\nendpoint = \"http://127.0.0.1:7480\"\nbucket = \"mail\"\n"
    "access_key = \"k\"\nsecret_key_command = \"echo s\"\n";

}  // namespace

TEST_CASE("gc refuses a local store and says why", "[cli][gc]") {
    cli_test::CliFixture f;
    const auto r = f.run({"gc", "--config", f.config});
    CHECK(r.code == kExitUsage);
    CHECK(r.err.find("imapkeep gc is for an S3 store") != std::string::npos);
    CHECK(r.err.find("local store") != std::string::npos);
}

TEST_CASE("gc durations: 7d, 36h, 90m, 3600s or seconds, nothing else", "[cli][gc]") {
    using std::chrono::seconds;
    CHECK(parse_gc_grace("7d") == seconds(7 * 86400));
    CHECK(parse_gc_grace("36h") == seconds(36 * 3600));
    CHECK(parse_gc_grace("90m") == seconds(90 * 60));
    CHECK(parse_gc_grace("3600s") == seconds(3600));
    CHECK(parse_gc_grace("3600") == seconds(3600));
    CHECK(parse_gc_grace("0") == seconds(0));
    for (const char* bad : {"", "d", "-1d", "1.5d", "7w", "7 d", "99999999999d", "+7d"})
        CHECK_FALSE(parse_gc_grace(bad));
    CHECK(gc_grace_text(seconds(7 * 86400)) == "7d");
    CHECK(gc_grace_text(seconds(36 * 3600)) == "36h");
    CHECK(gc_grace_text(seconds(61)) == "61s");
    CHECK(gc_grace_text(seconds(0)) == "0s");
}

TEST_CASE("[store.s3] gc_grace: 7 days unless set, a bad one refused", "[cli][gc][config]") {
    CHECK(parse_config(kS3Store, "/etc/imapkeep.toml").s3.gc_grace == std::chrono::hours(7 * 24));
    CHECK(parse_config(kS3Store + "gc_grace = \"2d\"\n", "/etc/imapkeep.toml").s3.gc_grace ==
          std::chrono::hours(48));
    CHECK_THROWS_WITH(parse_config(kS3Store + "gc_grace = \"2 weeks\"\n", "/etc/imapkeep.toml"),
                      Catch::Contains("gc_grace") && Catch::Contains("7d"));
}

TEST_CASE("gc --grace refuses what is not a duration", "[cli][gc]") {
    cli_test::CliFixture f;
    std::ofstream(f.config) << kS3Store;
    const auto r = f.run({"gc", "--config", f.config, "--grace", "soon"});
    CHECK(r.code == kExitUsage);
    CHECK(r.err.find("--grace soon") != std::string::npos);
}
