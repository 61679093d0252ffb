// A UIDVALIDITY re-match holds a few bytes per message, not its catalog row:
// the catalog's keys, the server's listing and the plan of a 20,000-message
// mailbox, measured on the heap (test_sync counts operator new, heap_counters.hpp;
// SQLite's own page cache is bounded by the catalog, not by the mailbox).
#include <catch2/catch.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <imapkeep/util/imap_date.hpp>

#include <string>

#include "heap_counters.hpp"
#include "support/scratch_store.hpp"
#include "sync/rematch_planner.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

constexpr std::uint32_t kMessages = 20000;
// What the planning may hold per message at its peak: a 16-byte key and an
// id on each side, the pair it matched, container slack. The old planner
// held the full catalog row, its strings and two ordered maps (~1 KB).
constexpr std::size_t kBytesPerMessage = 100;
constexpr std::int64_t kEpoch = 1700000000;

std::string message_id(std::uint32_t i) { return "<rematch." + std::to_string(i) + "@example.org>"; }

// A few flag sets, as a real mailbox has: most messages share one.
std::vector<std::string> flags_for(std::uint32_t i) {
    if (i % 50 == 0) return {"$Work", "\\Flagged", "\\Seen"};
    if (i % 5 == 0) return {};
    return {"\\Seen"};
}

store::Id fill_catalog(store::Catalog& catalog) {
    const auto account = catalog.ensure_account("acct");
    store::MailboxRecord box;
    box.account_id = account;
    box.name = "INBOX";
    box.delimiter = "/";
    box.uidvalidity = 7;
    box.uidnext = kMessages + 1;
    const auto mailbox = catalog.save_mailbox(box);
    std::vector<store::MessageRecord> batch;
    catalog.begin();
    for (std::uint32_t i = 1; i <= kMessages; ++i) {
        store::MessageRecord m;
        m.mailbox_id = mailbox;
        m.uidvalidity = 7;
        m.uid = i;
        m.internaldate = kEpoch + i;
        m.size = 1000 + i % 977;
        m.sha256 = std::string(64, 'a');
        m.message_id = message_id(i);
        m.flags = flags_for(i);
        m.file = "mail/acct/cur/1700000000.M" + std::to_string(i) + "P1.host,U=" + std::to_string(i) + ":2,S";
        m.added_at = kEpoch;
        batch.push_back(std::move(m));
        if (batch.size() == 1000) {
            catalog.add_messages(batch);
            batch.clear();
        }
    }
    catalog.add_messages(batch);
    catalog.commit();
    return mailbox;
}

// The server's listing of message `i` under the new UIDVALIDITY: every 10th
// has another size (a different message: downloaded again), every 7th no
// Message-ID (never matched).
imap::FetchData listed(std::uint32_t i) {
    imap::FetchData d;
    d.uid = Uid(100 + i);
    d.flags = flags_for(i + 1);  // flags changed since the last run
    d.internaldate = util::format_imap_datetime(kEpoch + i, 0);
    d.rfc822_size = 1000 + i % 977 + (i % 10 == 0 ? 1 : 0);
    if (i % 7 != 0) d.sections.emplace_back("HEADER.FIELDS (MESSAGE-ID)", "Message-ID: " + message_id(i) + "\r\n\r\n");
    return d;
}

bool expect_match(std::uint32_t i) { return i % 10 != 0 && i % 7 != 0; }

}  // namespace

TEST_CASE("a UIDVALIDITY re-match holds a bounded number of bytes per message", "[sync][rematch][memory]") {
    TempDir dir;
    auto catalog = store::open_sqlite_catalog((dir.path / "catalog.sqlite").string());
    const auto mailbox = fill_catalog(*catalog);

    const std::size_t base = reset_peak_heap();
    sync::RematchPlanner planner(*catalog, mailbox);
    for (std::uint32_t i = 1; i <= kMessages; ++i) planner.add(listed(i));
    auto plan = planner.plan();
    const std::size_t peak = g_peak_bytes.load() - base;

    std::size_t matches = 0;
    for (std::uint32_t i = 1; i <= kMessages; ++i) matches += expect_match(i);
    CHECK(plan.matched.size() == matches);
    CHECK(plan.unmatched_server.size() == kMessages - matches);
    CHECK(plan.unmatched_catalog.size() == kMessages - matches);
    for (const auto& [id, uid] : plan.matched) {
        const std::uint32_t i = uid - 100;
        REQUIRE(expect_match(i));
        REQUIRE(catalog->message_by_id(id)->uid == i);
        REQUIRE(planner.flags_of(uid) == flags_for(i + 1));
    }
    INFO("peak heap " << peak << " bytes, " << peak / kMessages << " per message");
    if (kCountsAllocations) CHECK(peak < kMessages * kBytesPerMessage);
}
