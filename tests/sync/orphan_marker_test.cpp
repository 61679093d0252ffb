// Issue 10, "1% changed": the orphan sweep (store/orphans.hpp) lists a folder
// and stats its files, so it runs only while the mailbox's files_pending marker
// says a run may have left uncataloged files there (Catalog::files_pending).
// These tests kill a run between its renames into cur/ and the catalog commit
// and check that the next run still sweeps (no message stored twice), and that
// a run after a clean one touches the folder in proportion to the new mail only.
#include <catch2/catch.hpp>
#include <filesystem>

#include "support/catalog_commits.hpp"
#include "support/fault_file_system.hpp"
#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
using imapkeep::test::CatalogCommits;
using imapkeep::test::FaultFileSystem;
using imapkeep::test::FsOp;

namespace {

void add_messages(ModelServer& server, const std::string& mailbox, int from, int count) {
    for (int i = from; i < from + count; ++i)
        server.append(mailbox, message(mailbox + "-" + std::to_string(i)), {"\\Seen"});
}

// Regular files in the folder's cur/ and new/: what a mail reader would show.
std::size_t files_in_folder(ModelFixture& f, const std::string& mailbox) {
    const auto record = f.record(mailbox);
    REQUIRE(record);
    auto base = f.dir.path / "mail" / f.account.name;
    if (!record->folder.empty()) base /= record->folder;
    std::size_t n = 0;
    for (const char* sub : {"cur", "new"})
        for (const auto& e : std::filesystem::directory_iterator(base / sub))
            if (e.is_regular_file()) ++n;
    return n;
}

// A new process whose file system dies right after the `skip`+1-th rename into
// the folder's cur/: the renamed files are there, their catalog rows are not.
void backup_killed_after_renames(ModelFixture& f, const std::string& folder, int skip) {
    auto fs = std::make_shared<FaultFileSystem>();
    fs->fail_after(FsOp::Rename, "/" + folder + "/cur/", skip);
    f.store.messages = store::open_maildir_store(f.dir.path.string(), {true, fs});
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE_FALSE(report_ok(report));
    REQUIRE(fs->index_of("failed rename") == -1);  // the rename itself was done
    f.store.open();
}

void check_one_copy_each(ModelFixture& f, const std::string& mailbox) {
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(f.stored(mailbox) == f.on_server(mailbox));
    CHECK(files_in_folder(f, mailbox) == f.on_server(mailbox).size());
}

}  // namespace

TEST_CASE("a run killed between its renames and its commit is swept by the next run",
          "[sync][orphans][kill]") {
    ModelFixture f;
    f.server.add_mailbox("A");
    add_messages(f.server, "A", 0, 5);
    REQUIRE(report_ok(f.backup()));
    const std::string folder = f.record("A")->folder;

    add_messages(f.server, "A", 5, 6);
    backup_killed_after_renames(f, folder, 2);
    CHECK(files_in_folder(f, "A") == 5 + 3);  // three files no row references
    CHECK(f.stored("A").size() == 5);
    CHECK(f.store.catalog->files_pending(f.record("A")->id));

    check_one_copy_each(f, "A");
    CHECK_FALSE(f.store.catalog->files_pending(f.record("A")->id));
}

TEST_CASE("a kill in a later batch is swept: an earlier batch's commit keeps the marker",
          "[sync][orphans][kill]") {
    ModelFixture f;
    f.server.add_mailbox("A");
    add_messages(f.server, "A", 0, 2);
    REQUIRE(report_ok(f.backup()));
    const std::string folder = f.record("A")->folder;

    // More than one chunk (200 messages) of new mail; the second dies mid-way.
    add_messages(f.server, "A", 2, 260);
    backup_killed_after_renames(f, folder, 205);
    CHECK(f.stored("A").size() == 2 + 200);
    CHECK(files_in_folder(f, "A") == 2 + 206);
    CHECK(f.store.catalog->files_pending(f.record("A")->id));

    check_one_copy_each(f, "A");
}

TEST_CASE("a run that fails after its renames (catalog commit refused) leaves the marker set",
          "[sync][orphans][kill]") {
    ModelFixture f;
    f.server.add_mailbox("A");
    add_messages(f.server, "A", 0, 3);
    REQUIRE(report_ok(f.backup()));
    const std::string folder = f.record("A")->folder;

    add_messages(f.server, "A", 3, 4);
    // The directory fsync before the commit fails: renamed, never cataloged.
    auto fs = std::make_shared<FaultFileSystem>();
    fs->fail(FsOp::FsyncDir, "/" + folder + "/cur");
    f.store.messages = store::open_maildir_store(f.dir.path.string(), {true, fs});
    REQUIRE_FALSE(report_ok(f.backup()));
    f.store.open();
    CHECK(files_in_folder(f, "A") == 3 + 4);
    CHECK(f.stored("A").size() == 3);

    check_one_copy_each(f, "A");
}

TEST_CASE("new mail after a clean run lists and stats nothing of what is stored",
          "[sync][orphans][bounded]") {
    ModelFixture f;
    f.server.add_mailbox("A");
    add_messages(f.server, "A", 0, 60);
    REQUIRE(report_ok(f.backup()));
    const auto record = *f.record("A");
    CHECK_FALSE(f.store.catalog->files_pending(record.id));

    add_messages(f.server, "A", 60, 30);
    auto fs = std::make_shared<FaultFileSystem>();
    f.store.messages = store::open_maildir_store(f.dir.path.string(), {true, fs});
    const std::string catalog_path = (f.dir.path / "catalog.sqlite").string();
    CatalogCommits commits(catalog_path);
    commits.start();

    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(f.stored("A") == f.on_server("A"));
    INFO(Catch::Detail::stringify(fs->reads()));
    const std::string cur = "/" + record.folder + "/cur";
    const std::string new_dir = "/" + record.folder + "/new";
    // At most the one listing of undo_reader_renames (unchanged.cpp), which
    // stats nothing; the sweep lists and stats nothing.
    CHECK(fs->count_reads("list_dir", cur) <= 1);
    CHECK(fs->count_reads("list_dir", new_dir) <= 1);
    // No stat per stored file (60 of them): what is read follows the new mail.
    CHECK(fs->count_reads("is_dir", cur + "/") + fs->count_reads("exists", cur + "/") <= 30);
    // Not one commit per message: the marker costs one commit of its own (set
    // before the first rename), clearing it rides on the batch's commit.
    CHECK(commits.commits() <= 4);
    CHECK_FALSE(f.store.catalog->files_pending(record.id));
}
