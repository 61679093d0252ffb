// Schema 7: a Gmail message's ids, labels and label history, and the label
// links of its Maildir view (catalog), and the hard links themselves (store).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <imapkeep/store/message_store.hpp>

#include "catalog_backends.hpp"
#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::TempDir;

namespace {

// On every catalog backend (catalog_backends.hpp).
struct Fixture {
    explicit Fixture(std::unique_ptr<imapkeep::test::CatalogBackend> b) : backend(std::move(b)) {}

    std::unique_ptr<imapkeep::test::CatalogBackend> backend;
    std::unique_ptr<Catalog> catalog = backend->open();
    Id account = catalog->ensure_account("g");
    Id all = [this] {
        MailboxRecord m;
        m.account_id = account;
        m.name = "[Gmail]/All Mail";
        m.delimiter = "/";
        m.folder = ".[Gmail].All Mail";
        return catalog->save_mailbox(m);
    }();

    Id add(std::uint32_t uid) {
        MessageRecord m;
        m.mailbox_id = all;
        m.uidvalidity = 1;
        m.uid = uid;
        m.sha256 = std::string(64, 'a');
        m.file = "mail/g/.[Gmail].All Mail/cur/" + std::to_string(uid) + ":2,";
        m.added_at = 100;
        return catalog->add_message(m);
    }
};

#define CATALOG_FIXTURE(f) IMAPKEEP_CATALOG_FIXTURE(Fixture, f)

}  // namespace

TEST_CASE("gmail catalog: labels are kept sorted, with a history entry per change",
          "[store][gmail]") {
    CATALOG_FIXTURE(f);
    Id id = f.add(1);
    CHECK_FALSE(f.catalog->gmail_message(id));
    f.catalog->set_gmail_message({id, 11, 22, {"Work", "\\Inbox", "Work"}}, 100);
    f.catalog->set_gmail_message({id, 11, 22, {"\\Inbox", "Work"}}, 150);  // same set: no entry
    f.catalog->set_gmail_message({id, 11, 22, {"Work"}}, 200);
    auto g = f.catalog->gmail_message(id);
    REQUIRE(g);
    CHECK(g->msgid == 11);
    CHECK(g->thrid == 22);
    CHECK(g->labels == std::vector<std::string>{"Work"});
    auto history = f.catalog->label_history(id);
    REQUIRE(history.size() == 2);
    CHECK(history[0].at == 100);
    CHECK(history[0].labels == std::vector<std::string>{"Work", "\\Inbox"});
    CHECK(history[1].at == 200);
    CHECK(history[1].labels == std::vector<std::string>{"Work"});
}

TEST_CASE(
    "gmail catalog: label links are listed with the folder's files and mark the message linked",
    "[store][gmail]") {
    CATALOG_FIXTURE(f);
    Id a = f.add(1), b = f.add(2);
    f.catalog->set_gmail_message({a, 1, 1, {"Work"}}, 100);
    f.catalog->set_gmail_message({b, 2, 2, {}}, 100);
    CHECK(f.catalog->unlinked_gmail_messages(f.all, 10) == std::vector<Id>{a, b});
    CHECK(f.catalog->unlinked_gmail_messages(f.all, 1) == std::vector<Id>{a});
    f.catalog->set_label_links(a, {{"Work", "mail/g/.Work/cur/1:2,"}});
    CHECK(f.catalog->unlinked_gmail_messages(f.all, 10) == std::vector<Id>{b});
    CHECK(f.catalog->files_in_dir("mail/g/.Work/cur") ==
          std::vector<std::string>{"mail/g/.Work/cur/1:2,"});
    auto links = f.catalog->label_links(a);
    REQUIRE(links.size() == 1);
    CHECK(links[0].label == "Work");
    // New labels: unlinked again until the links follow.
    f.catalog->set_gmail_message({a, 1, 1, {"Work", "Home"}}, 200);
    CHECK(f.catalog->unlinked_gmail_messages(f.all, 10) == std::vector<Id>{a, b});
    // Deleting the message (expunged = "mirror") takes its rows along.
    f.catalog->delete_message(a);
    CHECK(f.catalog->label_links(a).empty());
    CHECK_FALSE(f.catalog->gmail_message(a));
    CHECK(f.catalog->label_history(a).empty());
    CHECK(f.catalog->files_in_dir("mail/g/.Work/cur").empty());
}

TEST_CASE("maildir: a label link is the file itself, and linking again is no error",
          "[store][gmail]") {
    TempDir dir;
    auto messages = open_maildir_store(dir.path());
    auto pending = messages->begin("g", ".A");
    pending->write("Subject: x\r\n\r\nbody\r\n");
    pending->finish();
    messages->sync_pending();
    auto file = messages->commit(*pending, "g", ".A", 1, 1'600'000'000, {"\\Seen"});
    auto link = messages->link_into_folder(file, "g", ".Work");
    CHECK(link == messages->path_in_folder(file, "g", ".Work"));
    CHECK(messages->link_into_folder(file, "g", ".Work") == link);
    messages->sync_committed();
    struct stat a {
    }, b{};
    REQUIRE(::stat(messages->absolute(file).c_str(), &a) == 0);
    REQUIRE(::stat(messages->absolute(link).c_str(), &b) == 0);
    CHECK(a.st_ino == b.st_ino);
    CHECK(a.st_nlink == 2);
    // Flags rename a link like any file; removing it leaves the copy.
    auto renamed = messages->set_flags(link, {});
    messages->remove(renamed);
    REQUIRE(::stat(messages->absolute(file).c_str(), &a) == 0);
    CHECK(a.st_nlink == 1);
    CHECK_THROWS_AS(messages->link_into_folder("attic/g/.A/cur/x:2,", "g", ".B"), StoreError);
}

// Gmail adoption: All Mail takes over a label folder's file under a name of
// its own, so locate() never confuses the two.
TEST_CASE("maildir: link_as_new links the file under a new unique name with its UID and flags",
          "[store][gmail]") {
    TempDir dir;
    auto messages = open_maildir_store(dir.path());
    auto pending = messages->begin("g", "");
    pending->write("Subject: x\r\n\r\nbody\r\n");
    pending->finish();
    messages->sync_pending();
    auto file = messages->commit(*pending, "g", "", 3, 1'600'000'000, {"\\Seen"});
    auto copy = messages->link_as_new(file, "g", ".All", 42, {"\\Flagged"});
    messages->sync_committed();
    CHECK(copy.rfind("mail/g/.All/cur/", 0) == 0);
    CHECK(copy.find(",U=42:2,F") != std::string::npos);
    const auto name = [](const std::string& p) {
        auto n = p.substr(p.rfind('/') + 1);
        return n.substr(0, n.find(','));
    };
    CHECK(name(copy) != name(file));
    struct stat a {
    }, b{};
    REQUIRE(::stat(messages->absolute(file).c_str(), &a) == 0);
    REQUIRE(::stat(messages->absolute(copy).c_str(), &b) == 0);
    CHECK(a.st_ino == b.st_ino);
    // The old file gone, looking it up never finds the new one.
    messages->remove(file);
    CHECK(messages->locate(file) == file);
    CHECK(messages->locate(messages->path_in_folder(copy, "g", "")) == messages->path_in_folder(copy, "g", ""));
    // An attic file taken back (Gmail adoption of a retired label's file):
    // the link is live, the attic keeps its name, the bytes stay once.
    auto attic = messages->move_to_attic(copy);
    auto back = messages->link_as_new(attic, "g", ".B", 7, {});
    messages->sync_committed();
    CHECK(back.rfind("mail/g/.B/cur/", 0) == 0);
    struct stat c {};
    REQUIRE(::stat(messages->absolute(back).c_str(), &c) == 0);
    CHECK(c.st_ino == a.st_ino);
    CHECK(std::filesystem::exists(messages->absolute(attic)));
}
