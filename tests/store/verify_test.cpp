#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <imapkeep/store/verify.hpp>
#include <map>

#include "catalog_backends.hpp"
#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::TempDir;
namespace fs = std::filesystem;

namespace {

struct Stored {
    Id id;
    std::string file;
};

Stored store_message(Catalog& catalog, MessageStore& store, Id mailbox, const std::string& folder,
                     std::uint32_t uid, const std::string& body) {
    auto pending = store.begin("work", folder);
    pending->write(body);
    pending->finish();
    store.sync_pending();
    MessageRecord m;
    m.mailbox_id = mailbox;
    m.uidvalidity = 1;
    m.uid = uid;
    describe_stored(*pending, m);
    m.file = store.commit(*pending, "work", folder, uid, 0, {});
    m.added_at = 1;
    return {catalog.add_message(m), m.file};
}

}  // namespace

TEST_CASE("verify_files finds missing, truncated and altered files", "[store][verify]") {
    TempDir dir;
    IMAPKEEP_EACH_CATALOG(catalog);  // every backend (catalog_backends.hpp)
    auto store = open_maildir_store(dir.path());
    const Id account = catalog->ensure_account("work");
    MailboxRecord inbox;
    inbox.account_id = account;
    inbox.name = "INBOX";
    inbox.id = catalog->save_mailbox(inbox);
    MailboxRecord gone;
    gone.account_id = account;
    gone.name = "Gone";
    gone.folder = ".Gone";
    gone.deleted_at = 5;  // deleted mailboxes are verified too
    gone.id = catalog->save_mailbox(gone);

    auto good = store_message(*catalog, *store, inbox.id, "", 1, "Subject: ok\r\n\r\nfine\r\n");
    auto deleted = store_message(*catalog, *store, inbox.id, "", 2, "Subject: 2\r\n\r\nx\r\n");
    auto truncated = store_message(*catalog, *store, inbox.id, "", 3, "Subject: 3\r\n\r\nxyz\r\n");
    auto altered =
        store_message(*catalog, *store, gone.id, ".Gone", 4, "Subject: 4\r\n\r\nabc\r\n");
    auto expunged = store_message(*catalog, *store, gone.id, ".Gone", 5, "Subject: 5\r\n\r\nq\r\n");
    const auto attic = store->move_to_attic(expunged.file);
    catalog->mark_expunged(expunged.id, 6, attic);

    CHECK(verify_files(*catalog, *store, account).empty());

    fs::remove(store->absolute(deleted.file));
    fs::resize_file(store->absolute(truncated.file), 5);
    {
        std::fstream f(store->absolute(altered.file),
                       std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(-3, std::ios::end);
        f.put('X');
    }
    {
        std::ofstream f(store->absolute(attic), std::ios::binary | std::ios::trunc);
        f << "Subject: 5\n\nQ\n";  // stored with LF: same size, one byte differs
    }

    auto problems = verify_files(*catalog, *store, account);
    std::map<Id, std::pair<std::string, std::string>> by_id;
    for (const auto& p : problems) by_id[p.message_id] = {p.kind, p.file};
    CHECK(problems.size() == 4);
    CHECK(by_id[deleted.id] == std::pair<std::string, std::string>{"missing", deleted.file});
    CHECK(by_id[truncated.id] == std::pair<std::string, std::string>{"size", truncated.file});
    CHECK(by_id[altered.id] == std::pair<std::string, std::string>{"corrupt", altered.file});
    CHECK(by_id[expunged.id] == std::pair<std::string, std::string>{"corrupt", attic});
    CHECK(by_id.count(good.id) == 0);

    // Another account's files are not looked at.
    CHECK(verify_files(*catalog, *store, catalog->ensure_account("other")).empty());
}

TEST_CASE("verify_files tells a message it cannot read from a missing one", "[store][verify]") {
    // A read that fails (an I/O error, a network error of a remote store) says
    // nothing about whether the message is there: calling it "missing" would
    // send the user after a loss that did not happen.
    TempDir dir;
    IMAPKEEP_EACH_CATALOG(catalog);
    auto store = open_maildir_store(dir.path());
    const Id account = catalog->ensure_account("work");
    MailboxRecord inbox;
    inbox.account_id = account;
    inbox.name = "INBOX";
    inbox.id = catalog->save_mailbox(inbox);
    auto blocked = store_message(*catalog, *store, inbox.id, "", 1, "Subject: 1\r\n\r\nx\r\n");
    auto deleted = store_message(*catalog, *store, inbox.id, "", 2, "Subject: 2\r\n\r\ny\r\n");

    // Something at the path that cannot be read as a file: reading fails.
    fs::remove(store->absolute(blocked.file));
    fs::create_directory(store->absolute(blocked.file));
    fs::remove(store->absolute(deleted.file));

    std::map<Id, std::string> kind;
    for (const auto& p : verify_files(*catalog, *store, account)) kind[p.message_id] = p.kind;
    CHECK(kind[deleted.id] == "missing");
    CHECK(kind[blocked.id] == "unreadable");
}
