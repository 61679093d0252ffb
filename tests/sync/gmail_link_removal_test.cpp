// Removing a Gmail label link (LabelView) deletes that link and nothing else:
// replayed after a kill, when the link is gone already, it must not find
// another file of the same unique name (an attic copy a catalog row names).
#include <catch2/catch.hpp>
#include <filesystem>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>

#include "support/scratch_store.hpp"
#include "sync/gmail_labels.hpp"

using namespace imapkeep;

namespace {

struct LinkFixture {
    testing::TempDir dir;
    testing::Store store{dir.path};
    sync::GmailLayout layout{"[Gmail]/All Mail", "/", {}, {}};
    store::Id account = store.catalog->ensure_account("g");

    store::Id mailbox(const std::string& name) {
        store::MailboxRecord m;
        m.account_id = account;
        m.name = name;
        m.delimiter = "/";
        m.folder = store.messages->folder_for(name, "/");
        return store.catalog->save_mailbox(m);
    }
    std::string put(const std::string& folder, std::uint32_t uid) {
        auto pending = store.messages->begin("g", folder);
        pending->write("Subject: x\r\n\r\nbody\r\n");
        pending->finish();
        store.messages->sync_pending();
        auto file = store.messages->commit(*pending, "g", folder, uid, 1'600'000'000, {});
        store.messages->sync_committed();
        return file;
    }
    store::Id row(store::Id mailbox_id, std::uint32_t uid, const std::string& file) {
        store::MessageRecord m;
        m.mailbox_id = mailbox_id;
        m.uidvalidity = 1;
        m.uid = uid;
        m.sha256 = std::string(64, 'a');
        m.file = file;
        m.added_at = 100;
        return store.catalog->add_message(m);
    }
    bool on_disk(const std::string& file) {
        return std::filesystem::exists(store.messages->absolute(file));
    }
};

}  // namespace

TEST_CASE("gmail: a replayed link removal never deletes an attic file a row names",
          "[sync][gmail]") {
    LinkFixture f;
    const auto all = f.mailbox("[Gmail]/All Mail");
    const auto work = f.mailbox("Work");
    const auto copy = f.put(f.store.messages->folder_for("[Gmail]/All Mail", "/"), 1);
    const auto id = f.row(all, 1, copy);
    f.store.catalog->set_gmail_message({id, 11, 22, {"Work"}}, 100);

    sync::LabelView view(f.layout, *f.store.catalog, *f.store.messages, "g");
    view.link({id});
    const auto links = f.store.catalog->label_links(id);
    REQUIRE(links.size() == 1);
    REQUIRE(f.on_disk(links[0].file));

    // A file of the same unique name in the label folder's attic, named by a
    // row of its own (the Work mailbox's retired message, e.g. taken over
    // by the older Gmail adoption); the link itself is gone (a killed run
    // unlinked it before its catalog commit).
    const auto attic = f.store.messages->move_to_attic(links[0].file);
    f.row(work, 5, attic);
    REQUIRE(f.on_disk(attic));
    REQUIRE_FALSE(f.on_disk(links[0].file));

    SECTION("the copy leaves All Mail") { view.drop(id); }
    SECTION("the label is removed") {
        f.store.catalog->set_gmail_message({id, 11, 22, {}}, 200);
        view.link({id});
    }
    CHECK(f.on_disk(attic));
    CHECK(f.on_disk(copy));
    CHECK(f.store.catalog->label_links(id).empty());
}
