// Invariant 3: a UIDVALIDITY re-match stopped after any durable step and then
// resumed ends as an uninterrupted one: every server message once in the
// live tree, nothing of the old UIDVALIDITY left live.
#include <catch2/catch.hpp>
#include <filesystem>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

std::size_t live_files(ModelFixture& f) {
    std::size_t n = 0;
    auto base = f.dir.path / "mail";
    if (!std::filesystem::exists(base)) return 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(base)) {
        auto leaf = e.path().parent_path().filename();
        if (e.is_regular_file() && (leaf == "cur" || leaf == "new")) ++n;
    }
    return n;
}

void prepare(ModelFixture& f) {
    f.server.add_mailbox("INBOX", 7);
    f.server.append("INBOX", message("a"));
    f.server.append("INBOX", message("", "no message-id here"));
    f.server.append("INBOX", message("c"));
    REQUIRE(report_ok(f.backup()));
    f.server.reset_uidvalidity("INBOX", 8);
    f.server.append("INBOX", message("d"));
}

}  // namespace

TEST_CASE("a UIDVALIDITY re-match stopped after any step leaves no duplicates",
          "[sync][invariant3]") {
    // The uninterrupted run's step count bounds the stop points.
    std::uint64_t steps = 0;
    for (std::uint64_t k = 1;; ++k) {
        ModelFixture g;
        prepare(g);
        bool stopped = false;
        try {
            g.backup(k);
        } catch (const sync::StopRequested&) {
            stopped = true;
        }
        if (!stopped) break;
        steps = k;
    }
    REQUIRE(steps > 0);
    for (std::uint64_t k = 1; k <= steps; ++k) {
        DYNAMIC_SECTION("stopped after step " << k) {
            ModelFixture f;
            prepare(f);
            CHECK_THROWS_AS(f.backup(k), sync::StopRequested);
            auto report = f.backup();
            INFO(errors_of(report));
            CHECK(report_ok(report));
            auto record = f.record("INBOX");
            REQUIRE(record);
            CHECK(record->uidvalidity == 8);
            auto rows = f.store.catalog->messages(record->id);
            CHECK(rows.size() == 4);
            for (const auto& m : rows) CHECK(m.uidvalidity == 8);
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(live_files(f) == 4);
        }
    }
}
