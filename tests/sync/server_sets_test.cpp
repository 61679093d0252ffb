// Invariant 4: nothing the server sends decides how much memory the sync
// uses. A hostile VANISHED (EARLIER) 1:4294967295 stays a range.
#include <catch2/catch.hpp>

#include "largest_allocation.hpp"
#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

TEST_CASE("VANISHED (EARLIER) 1:4294967295 costs no memory", "[sync][invariant4]") {
    if (!kCountsAllocations) SUCCEED("allocation counting is off under the sanitizer");
    ModelFixture f;
    f.server.add_mailbox("INBOX");
    for (int i = 1; i <= 3; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
    REQUIRE(report_ok(f.backup()));

    auto& inbox = f.server.mailbox("INBOX");
    UidSet everything;
    everything.add_range(Uid(1), Uid(0xFFFFFFFFu));
    inbox.expunged.emplace_back(everything, ++inbox.highestmodseq);
    f.server.expunge("INBOX", 1);
    g_largest_allocation = 0;
    auto report = f.backup();
    INFO(errors_of(report));
    CHECK(report_ok(report));
    if (kCountsAllocations) CHECK(g_largest_allocation.load() < (4u << 20));
    for (const auto& m : report.mailboxes)
        if (m.name == "INBOX") CHECK(m.expunged == 3);
    CHECK(f.stored("INBOX").empty());
}
