// Case 3a: a mail reader (mutt, notmuch) renames "...:2," to "...:2,S" when it
// changes flags, and moves new/ files to cur/. The store must still find them.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/verify.hpp>

#include "catalog_backends.hpp"
#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::TempDir;
namespace fs = std::filesystem;

namespace {

// What mutt does when the user reads and flags a message: same base name, new
// info letters, plain rename(2) in the same directory.
std::string mutt_rename(MessageStore& store, const std::string& file, const std::string& letters) {
    const auto cut = file.rfind(":2,");
    const std::string renamed = file.substr(0, cut) + ":2," + letters;
    fs::rename(store.absolute(file), store.absolute(renamed));
    return renamed;
}

struct Stored {
    Id id;
    std::string file;
};

Stored put(Catalog& catalog, MessageStore& store, Id mailbox, const std::string& folder,
           std::uint32_t uid, const std::vector<std::string>& flags = {}) {
    auto pending = store.begin("work", folder);
    pending->write("Subject: " + std::to_string(uid) + "\r\n\r\nbody\r\n");
    pending->finish();
    store.sync_pending();
    MessageRecord m;
    m.mailbox_id = mailbox;
    m.uidvalidity = 1;
    m.uid = uid;
    describe_stored(*pending, m);
    m.flags = flags;
    m.file = store.commit(*pending, "work", folder, uid, 0, flags);
    store.sync_committed();
    return {catalog.add_message(m), m.file};
}

}  // namespace

TEST_CASE("renamed_files lists the catalog files a mail reader renamed", "[store][renamed]") {
    TempDir dir;
    IMAPKEEP_EACH_CATALOG(catalog);  // every backend (catalog_backends.hpp)
    auto store = open_maildir_store(dir / "store");
    MailboxRecord box;
    box.account_id = catalog->ensure_account("work");
    box.name = "Box";
    box.folder = ".Box";
    box.id = catalog->save_mailbox(box);
    const auto kept = put(*catalog, *store, box.id, ".Box", 1);
    const auto read = put(*catalog, *store, box.id, ".Box", 2);
    const auto flagged = put(*catalog, *store, box.id, ".Box", 3, {"\\Seen"});
    const auto now_read = mutt_rename(*store, read.file, "S");
    const auto now_flagged = mutt_rename(*store, flagged.file, "FS");
    // And one the reader moved from cur/ to new/ (some do, on "mark as new").
    const auto moved = put(*catalog, *store, box.id, ".Box", 4);
    const std::string in_new = "mail/work/.Box/new/" + moved.file.substr(moved.file.rfind('/') + 1);
    fs::rename(store->absolute(moved.file), store->absolute(in_new));

    auto renamed =
        store->renamed_files("work", ".Box", {kept.file, read.file, flagged.file, moved.file});
    std::sort(renamed.begin(), renamed.end());
    std::vector<std::pair<std::string, std::string>> expected = {
        {read.file, now_read}, {flagged.file, now_flagged}, {moved.file, in_new}};
    std::sort(expected.begin(), expected.end());
    CHECK(renamed == expected);
    CHECK(store->renamed_files("work", ".Box", {kept.file}).empty());

    // folder_files: what is on disk under its own name, cur/ and new/ alike.
    const auto present = store->folder_files("work", ".Box");
    CHECK(present.size() == 4);
    for (const auto& file : {kept.file, now_read, now_flagged, in_new}) CHECK(present.contains(file));
    for (const auto& file : {read.file, flagged.file, moved.file}) CHECK_FALSE(present.contains(file));
    CHECK(store->folder_files("work", ".Missing").size() == 0);

    // Every reader of a catalog file finds it: locate, and so export and restore.
    CHECK(store->locate(read.file) == now_read);

    // verify calls it renamed, not missing, and says where it is now.
    auto problems = verify_files(*catalog, *store, box.account_id);
    REQUIRE(problems.size() == 3);
    for (const auto& p : problems) {
        INFO(p.file);
        CHECK(p.kind == "renamed");
        CHECK(p.actual_file == (p.file == read.file      ? now_read
                                : p.file == flagged.file ? now_flagged
                                                         : in_new));
    }
    // A renamed file whose bytes changed is still reported as corrupt.
    // (Stored with LF: same size, other bytes.)
    { std::ofstream(store->absolute(now_read), std::ios::trunc) << "Subject: 2\n\nBODY\n"; }
    problems = verify_files(*catalog, *store, box.account_id);
    bool corrupt = false;
    for (const auto& p : problems)
        if (p.file == read.file) corrupt = p.kind == "corrupt" && p.actual_file == now_read;
    CHECK(corrupt);
}
