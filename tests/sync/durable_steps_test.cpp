// What an incremental run costs the disk: the flag changes and expunges of a
// mailbox become durable together, in one catalog commit (issue 10, the 1%
// changed run is bound by the device's flushes, not by the CPU).
#include <catch2/catch.hpp>

#include "support/catalog_commits.hpp"
#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
using imapkeep::test::CatalogCommits;

TEST_CASE("a mailbox's flag changes and expunges commit in one durable step",
          "[sync][durability]") {
    for (const char* path : {"qresync", "condstore", "plain"}) {
        DYNAMIC_SECTION(path) {
            ModelFixture f;
            f.account.sync_path = path;
            f.account.connections = 1;
            f.server.add_mailbox("INBOX");
            for (int i = 1; i <= 10; ++i)
                f.server.append("INBOX", message("m" + std::to_string(i)));
            REQUIRE(report_ok(f.backup()));

            f.server.set_flags("INBOX", 2, {"\\Seen"});
            f.server.set_flags("INBOX", 5, {"\\Flagged"});
            f.server.expunge("INBOX", 7);
            CatalogCommits commits((f.dir.path / "catalog.sqlite").string());
            commits.start();
            auto report = f.backup();
            INFO(errors_of(report));
            REQUIRE(report_ok(report));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(find_report(report, "INBOX")->flag_changes == 2);
            CHECK(find_report(report, "INBOX")->expunged == 1);
            // The changes in one step, then the mailbox's new state.
            CHECK(commits.commits() == 2);
        }
    }
}
