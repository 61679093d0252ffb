// for_each_live_window (catalog_windows.hpp): every live row of a mailbox,
// whatever its UIDVALIDITY, exactly once, in windows no larger than asked.
#include <catch2/catch.hpp>
#include <imapkeep/store/catalog_windows.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <set>

#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::TempDir;

namespace {

Id add_row(Catalog& catalog, Id mailbox, std::uint32_t uidvalidity, std::uint32_t uid) {
    MessageRecord m;
    m.mailbox_id = mailbox;
    m.uidvalidity = uidvalidity;
    m.uid = uid;
    m.sha256 = "h";
    m.file = "mail/acct/cur/m" + std::to_string(uidvalidity) + "-" + std::to_string(uid);
    return catalog.add_message(m);
}

}  // namespace

TEST_CASE("catalog windows: every live row once, no window larger than asked",
          "[store][catalog_windows]") {
    TempDir dir;
    auto catalog = open_sqlite_catalog(dir / "catalog.sqlite");
    MailboxRecord box;
    box.account_id = catalog->ensure_account("acct");
    box.name = "INBOX";
    box.id = catalog->save_mailbox(box);
    MailboxRecord other = box;
    other.id = 0;
    other.name = "Other";
    other.folder = ".Other";
    other.id = catalog->save_mailbox(other);

    std::set<std::pair<std::uint32_t, std::uint32_t>> live;
    for (std::uint32_t uid = 1; uid <= 11; ++uid) {
        const Id id = add_row(*catalog, box.id, 7, uid);
        if (uid % 4 == 0)
            catalog->mark_expunged(id, 1, "");
        else
            live.emplace(7, uid);
    }
    for (std::uint32_t uid : {3u, 0xFFFFFFFFu}) {  // an older UIDVALIDITY, the top UID
        add_row(*catalog, box.id, 5, uid);
        live.emplace(5, uid);
    }
    add_row(*catalog, other.id, 7, 100);  // another mailbox's row

    for (std::size_t window : {1u, 3u, 4u, 100u}) {
        INFO("window " << window);
        std::vector<std::pair<std::uint32_t, std::uint32_t>> seen;
        std::size_t largest = 0;
        for_each_live_window(*catalog, box.id, window, [&](std::vector<MessageRecord>& rows) {
            largest = std::max(largest, rows.size());
            for (const auto& m : rows) seen.emplace_back(m.uidvalidity, m.uid);
        });
        CHECK(largest <= window);
        CHECK(seen.size() == live.size());
        CHECK(std::set(seen.begin(), seen.end()) == live);
        CHECK(std::is_sorted(seen.begin(), seen.end()));
    }
    CHECK_THROWS_AS(for_each_live_window(*catalog, box.id, 0, [](auto&) {}), StoreError);
}
