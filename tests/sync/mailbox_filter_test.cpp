// --mailbox patterns that match no mailbox on the server are reported (issue
// 11: they "matched nothing and exited 0 silently"), in a real run and in a
// dry run; patterns that match are not.
#include <catch2/catch.hpp>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

TEST_CASE("a --mailbox pattern that matches no mailbox is reported", "[sync][filter]") {
    const struct {
        std::vector<std::string> filter;
        std::vector<std::string> unmatched;
    } cases[] = {
        {{"A"}, {}},
        {{"Nonexistent*"}, {"Nonexistent*"}},
        {{"A", "Nope", "B*"}, {"Nope"}},
        {{"%"}, {}},
        // Excluded by the config: not there for this run either.
        {{"Junk"}, {"Junk"}},
    };
    for (const auto& c : cases) {
        for (bool dry_run : {false, true}) {
            std::string name;
            for (const auto& p : c.filter) name += p + " ";
            DYNAMIC_SECTION(name << (dry_run ? "(dry run)" : "")) {
                ModelFixture f;
                f.account.exclude = {"Junk"};
                for (const char* box : {"A", "Bee", "Junk"}) f.server.add_mailbox(box);
                sync::BackupOptions options;
                options.open_catalog = [path = (f.store.root / "catalog.sqlite").string()] { return store::open_sqlite_catalog(path); };
                options.mailbox_filter = c.filter;
                options.dry_run = dry_run;
                auto report = sync::backup_account(f.account, *f.store.catalog, *f.store.messages, options);
                CHECK(report.unmatched_patterns == c.unmatched);
            }
        }
    }
}
