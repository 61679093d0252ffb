// Invariant 2: orphan cleanup only removes files that no catalog row references,
// whichever mailbox (live or deleted, message live or expunged) the row is in.
#include <catch2/catch.hpp>
#include <filesystem>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/orphans.hpp>

#include "catalog_backends.hpp"
#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string put(MessageStore& store, const std::string& folder, std::uint32_t uid) {
    auto pending = store.begin("acct", folder);
    pending->write("message " + std::to_string(uid));
    pending->finish();
    store.sync_pending();
    auto file = store.commit(*pending, "acct", folder, uid, 0, {});
    store.sync_committed();
    return file;
}

Id add_row(Catalog& catalog, Id mailbox, std::uint32_t uid, const std::string& file) {
    MessageRecord m;
    m.mailbox_id = mailbox;
    m.uidvalidity = 1;
    m.uid = uid;
    m.sha256 = "h";
    m.file = file;
    return catalog.add_message(m);
}

}  // namespace

TEST_CASE("orphan cleanup of one mailbox keeps files other rows reference", "[store][orphans]") {
    TempDir dir;
    IMAPKEEP_EACH_CATALOG(catalog);  // every backend (catalog_backends.hpp)
    auto store = open_maildir_store(dir / "store");
    const Id account = catalog->ensure_account("acct");
    // Two mailboxes whose rows point into one folder (an older catalog, or a
    // folder reassigned by the 0002 migration): breaks "one folder per mailbox".
    MailboxRecord a, b;
    a.account_id = b.account_id = account;
    a.name = "A";
    a.folder = ".A";
    b.name = "B";
    b.folder = ".A%~2";
    a.id = catalog->save_mailbox(a);
    b.id = catalog->save_mailbox(b);

    const auto of_a = put(*store, ".A", 1);
    const auto of_b = put(*store, ".A", 2);      // B's row, in A's folder
    const auto expunged = put(*store, ".A", 3);  // an expunged row still points here
    const auto orphan = put(*store, ".A", 4);    // no row: a killed run's leftover
    const auto flagged = put(*store, ".A", 5);   // renamed since its row was written
    add_row(*catalog, a.id, 1, of_a);
    add_row(*catalog, b.id, 2, of_b);
    catalog->mark_expunged(add_row(*catalog, b.id, 3, expunged), 10, expunged);
    add_row(*catalog, a.id, 5, flagged);
    store->set_flags(flagged, {"\\Seen"});

    CHECK(remove_orphans(*catalog, *store, "acct", ".A") == 1);
    CHECK(fs::exists(store->absolute(of_a)));
    CHECK(fs::exists(store->absolute(of_b)));
    CHECK(fs::exists(store->absolute(expunged)));
    CHECK(fs::exists(store->absolute(store->locate(flagged))));
    CHECK_FALSE(fs::exists(store->absolute(orphan)));
    CHECK(remove_orphans(*catalog, *store, "acct", ".A") == 0);

    // INBOX ("") covers the account root only, never the sub-folders under it.
    const auto inbox_orphan = put(*store, "", 1);
    CHECK(remove_orphans(*catalog, *store, "acct", "") == 1);
    CHECK_FALSE(fs::exists(store->absolute(inbox_orphan)));
    CHECK(fs::exists(store->absolute(of_b)));
}
