// Case 3: every live mailbox gets its own Maildir folder, enforced by the catalog.
#include <catch2/catch.hpp>
#include <imapkeep/store/folder_allocation.hpp>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <map>
#include <set>

#include "store/maildir_names.hpp"
#include "store/migrations.hpp"
#include "catalog_backends.hpp"
#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::TempDir;

namespace {

// On every catalog backend (catalog_backends.hpp).
struct Fixture {
    explicit Fixture(std::unique_ptr<imapkeep::test::CatalogBackend> b) : backend(std::move(b)) {}

    std::unique_ptr<imapkeep::test::CatalogBackend> backend;
    TempDir dir;
    std::unique_ptr<Catalog> catalog = backend->open();
    std::unique_ptr<MessageStore> store = open_maildir_store(dir / "store");
    Id account = catalog->ensure_account("acct");

    // What the sync layer does when it meets a new mailbox.
    MailboxRecord create(const std::string& name, const std::string& delimiter = "/") {
        MailboxRecord r;
        r.account_id = account;
        r.name = name;
        r.delimiter = delimiter;
        r.folder = allocate_folder(*catalog, *store, account, name, delimiter);
        r.id = catalog->save_mailbox(r);
        return r;
    }
};

}  // namespace

TEST_CASE("mailboxes whose names map to one folder get distinct folders", "[store][folders]") {
    IMAPKEEP_CATALOG_FIXTURE(Fixture, f);
    // INBOX/x and inbox/x both map to .INBOX.x; a name over 255 bytes is cut
    // and hashed, and a second one is made to land on that same folder below.
    const auto a = f.create("INBOX/x");
    const auto b = f.create("inbox/x");
    const auto c = f.create("Inbox/x");
    CHECK(a.folder == ".INBOX.x");
    std::set<std::string> folders{a.folder, b.folder, c.folder};
    CHECK(folders.size() == 3);
    // Deterministic: the scheme is documented, and the variants are valid folders.
    CHECK(b.folder == ".INBOX.x%~2");
    CHECK(c.folder == ".INBOX.x%~3");
    for (const auto& folder : folders) CHECK_NOTHROW(f.store->begin("acct", folder)->discard());

    // The mailbox itself keeps its folder when asked again (rename of the record).
    CHECK(allocate_folder(*f.catalog, *f.store, f.account, "inbox/x", "/", b.id) == b.folder);
    // A deleted mailbox frees its folder.
    auto gone = a;
    gone.deleted_at = 1;
    f.catalog->save_mailbox(gone);
    CHECK(allocate_folder(*f.catalog, *f.store, f.account, "INBOX/x", "/") == ".INBOX.x");
    // Other accounts do not count.
    const Id other = f.catalog->ensure_account("other");
    CHECK(allocate_folder(*f.catalog, *f.store, other, "inbox/x", "/") == ".INBOX.x");
}

TEST_CASE("a truncated long name stays within 255 bytes when it needs a variant",
          "[store][folders]") {
    IMAPKEEP_CATALOG_FIXTURE(Fixture, f);
    const std::string long_name(300, 'n');
    const auto a = f.create(long_name);
    CHECK(a.folder.size() == 255);
    // Another mailbox that already sits on that folder (an older catalog).
    MailboxRecord clash;
    clash.account_id = f.account;
    clash.name = long_name + "-renamed-on-the-server";
    clash.folder = allocate_folder(*f.catalog, *f.store, f.account, long_name, "/");
    CHECK(clash.folder != a.folder);
    CHECK(clash.folder.size() <= 255);
    CHECK_NOTHROW(f.catalog->save_mailbox(clash));
    CHECK_NOTHROW(f.store->begin("acct", clash.folder)->discard());
}

TEST_CASE("the catalog refuses two live mailboxes on one folder", "[store][folders]") {
    IMAPKEEP_CATALOG_FIXTURE(Fixture, f);
    f.create("A");
    MailboxRecord twin;
    twin.account_id = f.account;
    twin.name = "a-twin";
    twin.folder = ".A";
    CHECK_THROWS_AS(f.catalog->save_mailbox(twin), StoreError);
    twin.deleted_at = 5;  // a deleted one may keep the folder it had
    CHECK_NOTHROW(f.catalog->save_mailbox(twin));
}

TEST_CASE("migrating a catalog that already holds shared folders", "[store][folders][migrations]") {
    TempDir dir;
    const auto path = dir / "catalog.sqlite";
    {
        SqliteDb db(path);
        apply_migrations(db, {compiled_migrations().front()});  // version 1 only
        db.exec(
            "INSERT INTO account(id, name) VALUES (1, 'acct'), (2, 'other');"
            "INSERT INTO mailbox(id, account_id, name, folder, deleted_at) VALUES"
            " (1, 1, 'INBOX/x', '.INBOX.x', NULL),"
            " (2, 1, 'inbox/x', '.INBOX.x', NULL),"
            " (3, 1, 'Inbox/x', '.INBOX.x', NULL),"
            " (4, 1, 'INBOX/x', '.INBOX.x', 100),"   // deleted: keeps its folder
            " (5, 2, 'INBOX/x', '.INBOX.x', NULL),"  // other account: no clash
            " (6, 1, 'INBOX', '', NULL),"
            " (7, 1, 'inbox', '', NULL);"
            "INSERT INTO message(mailbox_id, uidvalidity, uid, internaldate, size, sha256, file,"
            " added_at) VALUES (2, 1, 1, 0, 1, 'h', 'mail/acct/.INBOX.x/cur/m2', 0);");
    }
    auto catalog = open_sqlite_catalog(path);
    std::map<Id, std::string> folder;
    for (Id account : {1, 2})
        for (const auto& m : catalog->mailboxes(account, true)) folder[m.id] = m.folder;
    CHECK(folder[1] == ".INBOX.x");  // the oldest keeps it
    CHECK(folder[4] == ".INBOX.x");
    CHECK(folder[5] == ".INBOX.x");
    CHECK(folder[6] == "");
    std::set<std::string> live{folder[1], folder[2], folder[3]};
    CHECK(live.size() == 3);
    CHECK(folder[7] != "");
    for (Id id : {2, 3, 7}) {
        INFO(folder[id]);
        CHECK_NOTHROW(check_folder(folder[id]));
    }
    // Rows keep pointing at the files where they are.
    CHECK(catalog->messages(2).at(0).file == "mail/acct/.INBOX.x/cur/m2");
}
