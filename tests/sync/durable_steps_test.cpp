// What an incremental run costs the disk: the flag changes and expunges of a
// mailbox become durable together, in one catalog commit (issue 10, the 1%
// changed run is bound by the device's flushes, not by the CPU).
#include <catch2/catch.hpp>
#include <chrono>
#include <imapkeep/store/sqlite_catalog.hpp>
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

// An INBOX of `messages` messages, backed up once on one connection by `path`.
void backed_up_inbox(ModelFixture& f, const char* path, int messages) {
    f.account.sync_path = path;
    f.account.connections = 1;
    f.server.add_mailbox("INBOX");
    for (int i = 1; i <= messages; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
    REQUIRE(report_ok(f.backup()));
}

}  // namespace

TEST_CASE("a mailbox's flag changes and expunges commit in one durable step",
          "[sync][durability]") {
    for (const char* path : {"qresync", "condstore", "plain"}) {
        DYNAMIC_SECTION(path) {
            ModelFixture f;
            backed_up_inbox(f, path, 10);

            f.server.set_flags("INBOX", 2, {"\\Seen"});
            f.server.set_flags("INBOX", 5, {"\\Flagged"});
            f.server.expunge("INBOX", 7);
            CatalogCommits commits((f.dir.path / "catalog.sqlite").string());
            commits.start();
            auto report = f.backup();
            INFO(errors_of(report));
            REQUIRE(report_ok(report));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(find_report(report, "INBOX")->flag_changes == 2);
            CHECK(find_report(report, "INBOX")->expunged == 1);
            // The changes in one step, then the mailbox's new state.
            CHECK(commits.commits() == 2);
        }
    }
}

TEST_CASE("a mailbox's file renames leave the catalog free for the other workers",
          "[sync][durability]") {
    // The catalog has one writer at a time. A step that renamed files and
    // fsynced their directories inside its transaction made every other
    // worker wait for those file operations too: the three mailboxes of a
    // 1% changed run took their turns (issue 10). Here mailbox A's first flag
    // rename is held; B's flag change must still reach the catalog.
    using namespace std::chrono_literals;
    for (const bool expunge : {false, true}) {
        DYNAMIC_SECTION((expunge ? "expunge" : "flag change")) {
            ModelFixture f;
            f.account.connections = 2;
            for (const char* name : {"A", "B"}) {
                f.server.add_mailbox(name);
                for (int i = 1; i <= 3; ++i)
                    f.server.append(name, message(name + std::to_string(i)));
            }
            auto fs = std::make_shared<FaultFileSystem>();
            f.store.messages = store::open_maildir_store(f.dir.path.string(), {true, fs});
            REQUIRE(report_ok(f.backup()));

            if (expunge) {
                f.server.expunge("A", 2);
            } else {
                f.server.set_flags("A", 2, {"\\Seen"});
            }
            f.server.set_flags("B", 2, {"\\Flagged"});
            auto gate = fs->hold(FsOp::Rename, "/.A/cur/");
            sync::AccountReport report;
            std::thread run([&] { report = f.backup(); });
            gate->wait_arrived();

            auto reader = store::open_sqlite_catalog((f.dir.path / "catalog.sqlite").string());
            auto b_flagged = [&] {
                auto account = reader->find_account(f.account.name);
                auto b = reader->find_mailbox(*account, "B");
                for (const auto& m : reader->messages(b->id))
                    if (m.uid == 2) return m.flags == std::vector<std::string>{"\\Flagged"};
                return false;
            };
            bool committed_meanwhile = false;
            for (auto waited = 0ms; waited < 5s && !committed_meanwhile; waited += 20ms) {
                committed_meanwhile = b_flagged();
                if (!committed_meanwhile) std::this_thread::sleep_for(20ms);
            }
            gate->release();
            run.join();
            CHECK(committed_meanwhile);
            INFO(errors_of(report));
            REQUIRE(report_ok(report));
            CHECK(f.stored("A") == f.on_server("A"));
            CHECK(f.stored("B") == f.on_server("B"));
        }
    }
}

TEST_CASE("new mail after changes needs no commit of its own for the files-pending marker",
          "[sync][durability]") {
    // The marker that makes a killed run's next run sweep the folder must be
    // durable before the first new file is renamed in. When EXAMINE announced
    // new mail, it now rides on the commit of the known messages' changes.
    for (const char* path : {"qresync", "condstore", "plain"}) {
        DYNAMIC_SECTION(path) {
            ModelFixture f;
            backed_up_inbox(f, path, 10);

            f.server.set_flags("INBOX", 2, {"\\Seen"});
            f.server.expunge("INBOX", 7);
            f.server.append("INBOX", message("m11"));
            CatalogCommits commits((f.dir.path / "catalog.sqlite").string());
            commits.start();
            auto report = f.backup();
            INFO(errors_of(report));
            REQUIRE(report_ok(report));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(find_report(report, "INBOX")->new_messages == 1);
            // The changes with the marker, then the new mail's batch with the
            // mailbox's new state.
            CHECK(commits.commits() == 2);
            CHECK_FALSE(f.store.catalog->files_pending(f.record("INBOX")->id));
        }
    }
}

TEST_CASE("the mailbox's new state is saved with its last batch of new mail",
          "[sync][durability]") {
    // Issue 10: the final save (high-water marks, folder stamp, path) rides
    // on the commit of the last batch, and is as complete as its own commit
    // was: the next run finds the mailbox unchanged without looking into it.
    for (int batches : {1, 3}) {
        DYNAMIC_SECTION(batches << " batch(es)") {
            ModelFixture f;
            backed_up_inbox(f, "qresync", 3);
            // Batches of at most 200 messages (sync::ChunkLimits).
            const int fresh = batches == 1 ? 2 : 2 * 200 + 5;
            for (int i = 0; i < fresh; ++i)
                f.server.append("INBOX", message("n" + std::to_string(i)));
            CatalogCommits commits((f.dir.path / "catalog.sqlite").string());
            commits.start();
            auto report = f.backup();
            INFO(errors_of(report));
            REQUIRE(report_ok(report));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            // The marker, then one commit per batch: no commit of its own for the state.
            CHECK(commits.commits() - 1 == batches);
            auto record = *f.record("INBOX");
            const auto& box = f.server.mailbox("INBOX");
            CHECK(record.uidnext == box.uidnext);
            CHECK(record.highestmodseq == box.highestmodseq);
            CHECK_FALSE(record.folder_stamp.empty());
            CHECK_FALSE(f.store.catalog->files_pending(record.id));

            // The next run: LIST-STATUS matches, the stamp vouches for the folder.
            auto again = f.backup();
            REQUIRE(report_ok(again));
            CHECK(find_report(again, "INBOX")->path == "unchanged");
        }
    }
}

TEST_CASE("a marker set with the changes is cleared when the new mail never comes",
          "[sync][durability]") {
    // UIDNEXT moved, but the new message was expunged before this run: no
    // file is renamed into the folder, so nothing is left for a sweep.
    ModelFixture f;
    backed_up_inbox(f, "", 4);  // the best path the server offers

    f.server.set_flags("INBOX", 2, {"\\Seen"});
    f.server.append("INBOX", message("m5"));
    f.server.expunge("INBOX", 5);
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(f.stored("INBOX") == f.on_server("INBOX"));
    CHECK(find_report(report, "INBOX")->flag_changes == 1);
    CHECK_FALSE(f.store.catalog->files_pending(f.record("INBOX")->id));
}
