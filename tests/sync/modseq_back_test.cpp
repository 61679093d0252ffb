// HIGHESTMODSEQ that goes down while UIDVALIDITY stays: RFC 7162 §3.1.1
// forbids it, and servers do it (closeio/sync-engine#943: "Some servers can
// decrement the HIGHESTMODSEQ value while the UIDVALIDITY remains unchanged";
// a Dovecot Maildir whose index files were lost keeps UIDVALIDITY in its
// uidlist). Asked for the changes since the catalog's higher mark, such a
// server names none: the flag changes and expunges made since its rebuild
// were never seen, and the next run asked from the lower mark, so the
// catalog kept the old flags and live rows for expunged messages for good.
#include <catch2/catch.hpp>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

TEST_CASE("a HIGHESTMODSEQ below the catalog's mark makes the run compare every known message",
          "[sync][hostile]") {
    for (const char* path : {"qresync", "condstore"}) {
        DYNAMIC_SECTION(path) {
            ModelFixture f;
            f.account.sync_path = path;
            f.server.add_mailbox("INBOX");
            for (int i = 1; i <= 5; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
            for (std::uint32_t uid = 1; uid <= 5; ++uid) f.server.set_flags("INBOX", uid, {"\\Seen"});
            auto first = f.backup();
            INFO(errors_of(first));
            REQUIRE(report_ok(first));
            const auto mark = f.record("INBOX")->highestmodseq;
            REQUIRE(mark > 3);

            f.server.rebuild_modseqs("INBOX");
            f.server.set_flags("INBOX", 2, {"\\Flagged", "\\Seen"});
            f.server.expunge("INBOX", 4);
            REQUIRE(f.server.mailbox("INBOX").highestmodseq < mark);

            auto second = f.backup();
            INFO(errors_of(second));
            CHECK(report_ok(second));
            auto record = f.record("INBOX");
            REQUIRE(record);
            CHECK(record->highestmodseq == f.server.mailbox("INBOX").highestmodseq);
            std::map<std::uint32_t, std::vector<std::string>> flags;
            for (const auto& m : f.store.catalog->messages(record->id))
                if (!m.expunged_at) flags[m.uid] = m.flags;
            const std::map<std::uint32_t, std::vector<std::string>> expected = {
                {1, {"\\Seen"}}, {2, {"\\Flagged", "\\Seen"}}, {3, {"\\Seen"}}, {5, {"\\Seen"}}};
            CHECK(flags == expected);
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
        }
    }
}

// Found by fuzz_sync (hostile server: interleave_fetches and rebuild_modseqs).
// With QRESYNC the known messages' changes are applied while the new mail's
// FETCHes are in flight, which is safe because applying them sends nothing.
// A HIGHESTMODSEQ that went down makes that a full FLAGS pass, whose FETCH
// then went out behind the new mail's: a server running both at once sent its
// FLAGS answers first, the client gave them to the oldest FETCH open (the new
// mail's), and the pass, seeing none, took every known message for expunged.
TEST_CASE("a HIGHESTMODSEQ that went down, with new mail on a server that runs FETCHes at once: no "
          "message is taken for expunged",
          "[sync][hostile]") {
    ModelFixture f;
    f.account.sync_path = "qresync";
    f.server.interleave_fetches = true;
    f.server.add_mailbox("INBOX");
    for (int i = 1; i <= 4; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
    auto first = f.backup();
    INFO(errors_of(first));
    REQUIRE(report_ok(first));

    f.server.rebuild_modseqs("INBOX");
    f.server.append("INBOX", message("m5"));
    auto second = f.backup();
    INFO(errors_of(second));
    CHECK(report_ok(second));
    const auto* inbox = find_report(second, "INBOX");
    REQUIRE(inbox);
    CHECK(inbox->expunged == 0);
    CHECK(f.stored("INBOX") == f.on_server("INBOX"));
}

// Found by fuzz_sync: a mailbox that answers a QRESYNC EXAMINE with
// [NOMODSEQ] (RFC 7162 §3.1.2: mod-sequences may not be kept for a mailbox,
// e.g. one moved to a store without them) names no changes; every known
// message is compared. The old code took the empty QRESYNC answer for "no
// flag changed" and kept the old flags for that run.
TEST_CASE("a mailbox that answers a QRESYNC EXAMINE with NOMODSEQ: every known message is compared",
          "[sync][hostile]") {
    ModelFixture f;
    f.account.sync_path = "qresync";
    f.server.add_mailbox("INBOX");
    for (int i = 1; i <= 3; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
    REQUIRE(report_ok(f.backup()));

    f.server.mailbox("INBOX").nomodseq = true;
    f.server.set_flags("INBOX", 2, {"\\Flagged"});
    f.server.expunge("INBOX", 3);
    auto second = f.backup();
    INFO(errors_of(second));
    CHECK(report_ok(second));
    auto record = f.record("INBOX");
    REQUIRE(record);
    std::map<std::uint32_t, std::vector<std::string>> flags;
    for (const auto& m : f.store.catalog->messages(record->id))
        if (!m.expunged_at) flags[m.uid] = m.flags;
    const std::map<std::uint32_t, std::vector<std::string>> expected = {{1, {}}, {2, {"\\Flagged"}}};
    CHECK(flags == expected);
}
