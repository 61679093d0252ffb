// Invariant 3: every store step is idempotent when replayed after a kill. The
// fault file system "kills" the step right after its rename (or unlink): the
// catalog never learnt the new path. The next run replays the step on what
// locate() finds, and on its own result; each replay succeeds, returns the
// same path, and leaves the step durable (its directories fsynced).
#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <imapkeep/store/message_store.hpp>
#include <sstream>

#include "support/fault_file_system.hpp"
#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::FaultFileSystem;
using imapkeep::test::FsOp;
using imapkeep::test::TempDir;

namespace {

const std::string kBody = "Subject: replay\r\n\r\nbody\r\n";
const std::string kStored = "Subject: replay\n\nbody\n";  // pure CRLF: stored with LF

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string put(MessageStore& store, const std::string& folder, std::uint32_t uid) {
    auto pending = store.begin("acct", folder);
    pending->write(kBody);
    pending->finish();
    store.sync_pending();
    auto file = store.commit(*pending, "acct", folder, uid, 0, {});
    store.sync_committed();
    return file;
}

std::string dir_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

bool fsynced(const FaultFileSystem& fs, const std::string& dir) {
    return fs.index_of("fsync_dir " + dir) >= 0;
}

struct Step {
    const char* name;
    std::function<std::string(MessageStore&, const std::string&)> run;
    const char* result_has;  // a piece of the resulting path
};

const std::vector<Step> kSteps = {
    {"set_flags", [](MessageStore& s, const std::string& f) { return s.set_flags(f, {"\\Seen"}); },
     ":2,S"},
    {"set_uid", [](MessageStore& s, const std::string& f) { return s.set_uid(f, 42); }, ",U=42:2,"},
    {"move_to_attic", [](MessageStore& s, const std::string& f) { return s.move_to_attic(f); },
     "attic/acct/.A/cur/"},
    {"move_to_folder",
     [](MessageStore& s, const std::string& f) { return s.move_to_folder(f, "acct", ".B"); },
     "mail/acct/.B/cur/"},
};

}  // namespace

TEST_CASE("file steps replayed after a kill succeed and end durable", "[store][replay]") {
    for (bool defer : {true, false}) {
        for (const auto& step : kSteps) {
            INFO(step.name << ", defer " << defer);
            TempDir dir;
            auto fs = std::make_shared<FaultFileSystem>();
            auto store = open_maildir_store(dir.path(), {defer, fs});
            store->create_folder("acct", ".B");
            const auto file = put(*store, ".A", 1);

            fs->fail_after(FsOp::Rename);  // killed right after the rename
            CHECK_THROWS_AS(step.run(*store, file), StoreError);
            fs->clear_rules();
            fs->clear_log();

            // The next run: the catalog still says `file`.
            std::string result;
            REQUIRE_NOTHROW(result = step.run(*store, store->locate(file)));
            store->sync_committed();
            CHECK(result.find(step.result_has) != std::string::npos);
            CHECK(read_all(store->absolute(result)) == kStored);
            CHECK(fsynced(*fs, dir_of(store->absolute(result))));
            // Replayed on the original path and on its own result: same answer.
            CHECK(step.run(*store, file) == result);
            CHECK(step.run(*store, result) == result);
        }
    }
}

TEST_CASE("remove replayed after a kill makes the unlink durable", "[store][replay]") {
    TempDir dir;
    auto fs = std::make_shared<FaultFileSystem>();
    auto store = open_maildir_store(dir.path(), {true, fs});
    const auto file = put(*store, ".A", 1);
    fs->fail_after(FsOp::Unlink);
    CHECK_THROWS_AS(store->remove(file), StoreError);
    fs->clear_rules();
    fs->clear_log();
    CHECK_NOTHROW(store->remove(store->locate(file)));
    CHECK(fsynced(*fs, dir_of(store->absolute(file))));
    CHECK_FALSE(fs->exists(store->absolute(file)));
}

TEST_CASE("remove finds a file renamed since its row was written", "[store][replay]") {
    TempDir dir;
    auto store = open_maildir_store(dir.path());
    const auto file = put(*store, ".A", 1);
    const auto flagged = store->set_flags(file, {"\\Seen"});  // catalog not updated
    store->remove(file);
    CHECK(read_all(store->absolute(flagged)).empty());
    CHECK(store->locate(file) == file);  // nothing left under any name
}

TEST_CASE("rename_folder replayed after a kill ends durable", "[store][replay]") {
    struct Case {
        const char* what;
        std::string from, to;
    };
    for (const auto& c :
         {Case{"directory rename", ".A", ".C"}, Case{"INBOX, message by message", "", ".Old"}}) {
        INFO(c.what);
        TempDir dir;
        auto fs = std::make_shared<FaultFileSystem>();
        auto store = open_maildir_store(dir.path(), {true, fs});
        const auto file = put(*store, c.from, 1);
        fs->fail_after(FsOp::Rename);
        CHECK_THROWS_AS(store->rename_folder("acct", c.from, c.to), StoreError);
        fs->clear_rules();
        fs->clear_log();
        REQUIRE_NOTHROW(store->rename_folder("acct", c.from, c.to));
        const auto moved = store->path_in_folder(file, "acct", c.to);
        CHECK(read_all(store->absolute(moved)) == kStored);
        // The directory that recorded the move was fsynced by the replay.
        CHECK(fsynced(*fs, c.from.empty() ? dir_of(store->absolute(moved)) : dir / "mail/acct"));
        CHECK_NOTHROW(store->rename_folder("acct", c.from, c.to));
    }
}

TEST_CASE("create_folder makes an empty mailbox's Maildir, durably and idempotently",
          "[store][folders]") {
    TempDir dir;
    auto fs = std::make_shared<FaultFileSystem>();
    {
        auto store = open_maildir_store(dir.path(), {true, fs});
        // Killed before the directory entries were fsynced.
        fs->fail(FsOp::FsyncDir, "/mail/acct/.Empty");
        CHECK_THROWS_AS(store->create_folder("acct", ".Empty"), StoreError);
    }
    fs->clear_rules();
    fs->clear_log();
    auto store = open_maildir_store(dir.path(), {true, fs});
    store->create_folder("acct", ".Empty");
    for (std::string sub : {"cur", "new", "tmp"})
        CHECK(fs->is_dir(dir / ("mail/acct/.Empty/" + sub)));
    CHECK(fs->exists(dir / "mail/acct/.Empty/maildirfolder"));
    CHECK(fsynced(*fs, dir / "mail/acct/.Empty"));
    CHECK(fsynced(*fs, dir / "mail/acct"));
    CHECK_NOTHROW(store->create_folder("acct", ".Empty"));
    CHECK_NOTHROW(store->create_folder("acct", ""));
    CHECK(fs->is_dir(dir / "mail/acct/cur"));
    CHECK_THROWS_AS(store->create_folder("acct", "../x"), StoreError);
}

TEST_CASE("remove never crosses into the attic for a missing live file", "[store][replay]") {
    TempDir dir;
    auto store = open_maildir_store(dir.path());
    const auto file = put(*store, ".A", 1);
    // Another file of that unique name in the attic (a row of its own names it).
    const auto attic = store->move_to_attic(file);
    store->remove(file);  // replayed: the live file is gone already
    CHECK(read_all(store->absolute(attic)) == kStored);
    // A live file is not reached from an attic path either.
    const auto live = put(*store, ".B", 2);
    store->remove(store->path_in_folder(live, "acct", ".B").replace(0, 4, "attic"));
    CHECK(read_all(store->absolute(live)) == kStored);
}
