// Issue 10, "no-change: one connection and one transaction". A mailbox whose
// LIST-STATUS matches the catalog (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ) is
// settled before any worker starts: no IMAP command, no extra login, no fsync,
// and all such mailboxes share one catalog transaction.
#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <thread>

#include "support/catalog_commits.hpp"
#include "support/fault_file_system.hpp"
#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
using imapkeep::test::CatalogCommits;
using imapkeep::test::FaultFileSystem;
using imapkeep::test::FsOp;

namespace {

const char* const kMailboxes[] = {"INBOX", "A", "B", "C", "D"};

void fill(ModelServer& server) {
    for (const char* name : kMailboxes) {
        server.add_mailbox(name);
        server.append(name, message(std::string(name) + "1"));
        server.append(name, message(std::string(name) + "2"), {"\\Seen"});
    }
}

std::size_t examines(const ModelServer& server) {
    return server.count_commands("EXAMINE") + server.count_commands("SELECT") +
           server.count_commands("STATUS");
}

}  // namespace

TEST_CASE("a no-change run logs in once and asks nothing per mailbox", "[sync][nochange]") {
    ModelFixture f;
    f.account.connections = 4;
    fill(f.server);
    REQUIRE(report_ok(f.backup()));

    const auto logins = f.server.connections_opened();
    f.server.clear_log();
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(f.server.connections_opened() - logins == 1);
    CHECK(examines(f.server) == 0);
    REQUIRE(report.mailboxes.size() == std::size(kMailboxes));
    for (const auto& m : report.mailboxes) {
        INFO(m.name);
        CHECK(m.path == "unchanged");
    }
}

TEST_CASE("only the mailboxes with work get a connection", "[sync][nochange]") {
    ModelFixture f;
    f.account.connections = 4;
    fill(f.server);
    REQUIRE(report_ok(f.backup()));

    // One new message and one flag change: two mailboxes with work, two workers,
    // the first on the connection that listed.
    f.server.append("B", message("B3"));
    f.server.set_flags("D", 1, {"\\Flagged"});
    const auto logins = f.server.connections_opened();
    f.server.clear_log();
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(f.server.connections_opened() - logins == 2);
    CHECK(f.server.count_commands("EXAMINE") + f.server.count_commands("SELECT") == 2);
    CHECK(find_report(report, "B")->new_messages == 1);
    CHECK(find_report(report, "D")->flag_changes == 1);
    for (const char* name : {"INBOX", "A", "C"}) {
        INFO(name);
        CHECK(find_report(report, name)->path == "unchanged");
    }
    CHECK(f.stored("B") == f.on_server("B"));
}

TEST_CASE("a no-change run fsyncs nothing and commits one catalog transaction",
          "[sync][nochange]") {
    ModelFixture f;
    f.account.connections = 4;
    fill(f.server);
    REQUIRE(report_ok(f.backup()));
    // Last-sync times from long ago, so the run's own are seen.
    for (const char* name : kMailboxes) {
        auto r = *f.record(name);
        r.last_sync_at = 1;
        f.store.catalog->save_mailbox(r);
    }

    // A new process: a fresh store object on a file system that counts.
    auto fs = std::make_shared<FaultFileSystem>();
    f.store.messages = store::open_maildir_store(f.dir.path.string(), {true, fs});
    const std::string catalog_path = (f.dir.path / "catalog.sqlite").string();
    CatalogCommits commits(catalog_path);
    commits.start();
    REQUIRE(commits.commits() == 0);
    fs->clear_log();

    const auto started = std::time(nullptr);
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    INFO(Catch::Detail::stringify(fs->log()));
    CHECK(fs->count(FsOp::FsyncDir) == 0);
    CHECK(fs->count(FsOp::Fsync) + fs->count(FsOp::FsyncFile) == 0);
    CHECK(fs->log().empty());
    // The last-sync times, all in one transaction.
    CHECK(commits.commits() == 1);
    for (const char* name : kMailboxes) {
        INFO(name);
        CHECK(f.record(name)->last_sync_at.value_or(0) >= started);
    }
}

namespace {

// As a new process does: a fresh store object (no cached directories) on
// the counting file system.
void reopen_store(ModelFixture& f, const std::shared_ptr<FaultFileSystem>& fs) {
    store::MaildirOptions options{true, fs};
    options.stamp_settle = std::chrono::milliseconds(50);
    f.store.messages = store::open_maildir_store(f.dir.path.string(), options);
}

// Long enough for every directory the last run changed to count as settled.
void let_folders_settle() { std::this_thread::sleep_for(std::chrono::milliseconds(100)); }

// The server filled and backed up twice, its folders settled in between, and
// the store reopened on `fs`: where a user's store stands before a no-change
// run. Settled or not, the folders' stamps are those the writing run took
// after its writes (a later rename or a kill's tmp/ files would change them).
void backed_up_and_settled(ModelFixture& f, const std::shared_ptr<FaultFileSystem>& fs) {
    fill(f.server);
    reopen_store(f, fs);
    REQUIRE(report_ok(f.backup()));
    let_folders_settle();
    reopen_store(f, fs);
    REQUIRE(report_ok(f.backup()));
    reopen_store(f, fs);
}

}  // namespace

TEST_CASE("a no-change run lists no Maildir folder", "[sync][nochange]") {
    ModelFixture f;
    auto fs = std::make_shared<FaultFileSystem>();
    backed_up_and_settled(f, fs);
    fs->clear_log();
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(Catch::Detail::stringify(fs->listed()) == "{  }");
    CHECK(Catch::Detail::stringify(fs->log()) == "{  }");
}

TEST_CASE("a no-change run checks its folders while the server lists", "[sync][nochange]") {
    // Each settled mailbox's folder is stat()ed (cur/, new/, tmp/) to prove no
    // one changed it. Those stats, 3,000 at 1,000 mailboxes, came after the
    // server's LIST-STATUS had answered; the check now runs beside the listing
    // (FolderCheck), and settling stats nothing more.
    ModelFixture f;
    auto fs = std::make_shared<FaultFileSystem>();
    backed_up_and_settled(f, fs);
    fs->clear_reads();
    const int stats = 3 * static_cast<int>(std::size(kMailboxes));
    int before_listing = -1;
    f.server.on_command = [&](const ModelCommand& c) {
        if (c.name != "LIST") return;
        // The listing waits (at most 5 s) for what the check does meanwhile.
        for (int i = 0; i < 500 && fs->count_reads("dir_version") < stats; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        before_listing = fs->count_reads("dir_version");
    };
    auto report = f.backup();
    f.server.on_command = nullptr;
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    for (const auto& m : report.mailboxes) {
        INFO(m.name);
        CHECK(m.path == "unchanged");
    }
    CHECK(before_listing == stats);
    CHECK(fs->count_reads("dir_version") == stats);
}

TEST_CASE("a run right after one that wrote a folder does not list it again", "[sync][nochange]") {
    // The folder's stamp used to be taken before the run's own writes, which
    // then changed it: every run after one that wrote a folder listed it
    // whole (0.3 s at 200k messages, issue 10). The stamp is now taken once
    // the run's writes are done, and the next run compares it without
    // waiting for stamp_settle.
    ModelFixture f;
    fill(f.server);
    auto fs = std::make_shared<FaultFileSystem>();
    reopen_store(f, fs);
    REQUIRE(report_ok(f.backup()));  // writes every folder
    f.server.append("INBOX", message("one more", "more"));
    reopen_store(f, fs);
    REQUIRE(report_ok(f.backup()));  // writes INBOX again

    reopen_store(f, fs);
    fs->clear_log();
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(Catch::Detail::stringify(fs->listed()) == "{  }");
}

TEST_CASE("a mail reader's rename right after a run that wrote the folder is still undone",
          "[sync][nochange]") {
    ModelFixture f;
    fill(f.server);
    auto fs = std::make_shared<FaultFileSystem>();
    reopen_store(f, fs);
    REQUIRE(report_ok(f.backup()));
    // At once, as a reader that had the folder open would.
    auto rows = f.store.catalog->messages(f.record("INBOX")->id);
    REQUIRE(!rows.empty());
    const auto from = f.store.messages->absolute(rows.front().file);
    const auto to = from.substr(0, from.rfind(":2,")) + ":2,T";
    REQUIRE(std::rename(from.c_str(), to.c_str()) == 0);

    reopen_store(f, fs);
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    const auto again = f.store.catalog->message_by_id(rows.front().id);
    REQUIRE(again);
    CHECK(std::filesystem::exists(f.store.messages->absolute(again->file)));
    CHECK(again->file == rows.front().file);
}
