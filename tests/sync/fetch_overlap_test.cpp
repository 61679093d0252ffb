// A 1% changed run's critical path (issue 10): applying the known messages'
// changes (renames, directory fsyncs, a catalog commit) sends nothing to the
// server, whether QRESYNC brought them with the EXAMINE or CONDSTORE and the
// plain path asked for them. The new mail's bodies are therefore asked for
// first, so the server reads and sends them while the changes' files move,
// instead of after.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "support/catalog_commits.hpp"
#include "support/fault_file_system.hpp"
#include "support/model_listener.hpp"
#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
using imapkeep::test::CatalogCommits;
using imapkeep::test::FaultFileSystem;
using imapkeep::test::FsOp;
using namespace std::chrono_literals;

namespace {

struct Change {
    const char* name;
    bool expunge;  // else a flag change
};

// Waits up to 5 s for `done()`.
template <class Done>
bool within_5s(Done done) {
    for (auto waited = 0ms; waited < 5s; waited += 10ms) {
        if (done()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return done();
}

// INBOX's 10 messages backed up through a fault layer; then `change` to
// message 3 and two new messages, and a backup whose first rename into cur/
// (the known message's file: the first file the run renames) is held while
// `seen(fs)` is awaited. Returns whether it came; checks the run's result.
template <class Seen>
bool seen_while_changes_held(ModelFixture& f, const char* path, Change change, Seen seen) {
    f.account.sync_path = path;
    f.account.connections = 1;
    f.server.add_mailbox("INBOX");
    for (int i = 1; i <= 10; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
    auto fs = std::make_shared<FaultFileSystem>();
    f.store.messages = store::open_maildir_store(f.dir.path.string(), {true, fs});
    REQUIRE(report_ok(f.backup()));

    if (change.expunge) {
        f.server.expunge("INBOX", 3);
    } else {
        f.server.set_flags("INBOX", 3, {"\\Seen"});
    }
    f.server.append("INBOX", message("m11"));
    f.server.append("INBOX", message("m12"));
    CatalogCommits commits((f.dir.path / "catalog.sqlite").string());
    commits.start();
    auto wait_for = seen(*fs);
    auto gate = fs->hold(FsOp::Rename, "/cur/");
    sync::AccountReport report;
    std::thread run([&] { report = f.backup(); });
    gate->wait_arrived();
    const bool came = within_5s(wait_for);
    gate->release();
    run.join();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(f.stored("INBOX") == f.on_server("INBOX"));
    const auto* inbox = find_report(report, "INBOX");
    CHECK(inbox->new_messages == 2);
    CHECK(inbox->flag_changes == (change.expunge ? 0u : 1u));
    CHECK(inbox->expunged == (change.expunge ? 1u : 0u));
    // Still two commits: the changes with the files-pending marker, then
    // the new mail's batch with the mailbox's new state.
    CHECK(commits.commits() == 2);
    CHECK_FALSE(f.store.catalog->files_pending(f.record("INBOX")->id));
    return came;
}

}  // namespace

TEST_CASE("new mail is asked for before the known messages' changes move files",
          "[sync][durability]") {
    // QRESYNC's changes come with the EXAMINE; CONDSTORE and the plain path
    // ask for them first, and only applying them waits.
    for (const char* path : {"qresync", "condstore", "plain"})
    for (const Change change : {Change{"flag change", false}, Change{"expunge", true}}) {
        DYNAMIC_SECTION(path << ", " << change.name) {
            ModelFixture f;
            // On TCP: the in-process stream answers only when the client reads,
            // a server answers as commands arrive.
            ModelListener listener(f.server);
            f.account.connect.stream_factory = nullptr;
            f.account.connect.host = "127.0.0.1";
            f.account.connect.port = listener.port();
            const bool asked = seen_while_changes_held(f, path, change, [&f](FaultFileSystem&) {
                const std::size_t before = f.server.body_fetches("INBOX");
                return [&f, before] { return f.server.body_fetches("INBOX") >= before + 2; };
            });
            CHECK(asked);
        }
    }
}

TEST_CASE("new bodies are written while the known messages' changes are applied",
          "[sync][durability]") {
    // Applying the changes needs the disk and the catalog, not the server:
    // it runs on the commit thread, and the mailbox's thread reads the new
    // bodies meanwhile. Before, the bodies waited in the socket for it (a
    // third of a 1% changed run's mailbox time, issue 10).
    for (const char* path : {"qresync", "condstore", "plain"})
    for (const Change change : {Change{"flag change", false}, Change{"expunge", true}}) {
        DYNAMIC_SECTION(path << ", " << change.name) {
            ModelFixture f;
            // A message file gets its INTERNALDATE as its time once its body
            // has all arrived.
            const bool written = seen_while_changes_held(f, path, change, [](FaultFileSystem& fs) {
                const int before = fs.count(FsOp::SetMtime);
                return [&fs, before] { return fs.count(FsOp::SetMtime) >= before + 2; };
            });
            CHECK(written);
        }
    }
}
