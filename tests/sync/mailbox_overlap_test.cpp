// A worker's next mailbox uses the connection while the last one's final
// commits run (BackupOptions::overlap_mailboxes, issue 10): each mailbox's
// own steps keep their order, a failure after the hand-over is that
// mailbox's alone, and a run stopped at any durable step loses nothing.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "support/fault_file_system.hpp"
#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
using imapkeep::test::FaultFileSystem;
using imapkeep::test::FsOp;
using namespace std::chrono_literals;

namespace {

// INBOX (6 messages) and Archive (3), backed up once on one connection
// through a fault layer; then 3 new messages in INBOX, a flag change and an
// expunge in each mailbox, and 1 new message in Archive. INBOX, with the
// most work, is synced first.
std::shared_ptr<FaultFileSystem> two_mailboxes_changed(ModelFixture& f) {
    f.account.connections = 1;
    f.server.add_mailbox("INBOX");
    f.server.add_mailbox("Archive");
    for (int i = 1; i <= 6; ++i) f.server.append("INBOX", message("i" + std::to_string(i)));
    for (int i = 1; i <= 3; ++i) f.server.append("Archive", message("a" + std::to_string(i)));
    auto fs = std::make_shared<FaultFileSystem>();
    f.store.messages = store::open_maildir_store(f.dir.path.string(), {true, fs});
    REQUIRE(report_ok(f.backup()));
    for (int i = 7; i <= 9; ++i) f.server.append("INBOX", message("i" + std::to_string(i)));
    f.server.append("Archive", message("a4"));
    for (const char* mailbox : {"INBOX", "Archive"}) {
        f.server.set_flags(mailbox, 1, {"\\Seen"});
        f.server.expunge(mailbox, 2);
    }
    return fs;
}

bool examines(const ModelCommand& c, const std::string& mailbox) {
    return (c.name == "EXAMINE" || c.name == "SELECT") &&
           c.text.find(mailbox) != std::string::npos;
}

void check_store_matches(ModelFixture& f) {
    for (const char* mailbox : {"INBOX", "Archive"}) {
        INFO(mailbox);
        CHECK(f.stored(mailbox) == f.on_server(mailbox));
    }
}

}  // namespace

TEST_CASE("the next mailbox is examined while the last one's new mail commits",
          "[sync][durability]") {
    ModelFixture f;
    auto fs = two_mailboxes_changed(f);
    std::atomic<bool> archive_examined{false};
    f.server.on_command = [&](const ModelCommand& c) {
        if (examines(c, "Archive")) archive_examined = true;
    };
    // INBOX's first new message into cur/ (INBOX is the account's root
    // folder): its new mail's commit, on its commit thread.
    auto gate = fs->hold(FsOp::Rename, "acct/tmp/");
    sync::AccountReport report;
    std::thread run([&] { report = f.backup(); });
    gate->wait_arrived();
    bool examined = false;
    for (auto waited = 0ms; waited < 5s && !examined; waited += 10ms) {
        std::this_thread::sleep_for(10ms);
        examined = archive_examined;
    }
    gate->release();
    run.join();
    CHECK(examined);
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    check_store_matches(f);
    CHECK(find_report(report, "INBOX")->new_messages == 3);
    CHECK(find_report(report, "Archive")->new_messages == 1);
}

TEST_CASE("a commit that fails after its mailbox gave the connection up is that mailbox's alone",
          "[sync][durability]") {
    ModelFixture f;
    auto fs = two_mailboxes_changed(f);
    fs->fail(FsOp::Rename, "acct/tmp/");  // INBOX's new mail, after its bodies all came
    auto report = f.backup();
    const auto* inbox = find_report(report, "INBOX");
    REQUIRE(inbox != nullptr);
    CHECK_FALSE(inbox->errors.empty());
    const auto* archive = find_report(report, "Archive");
    REQUIRE(archive != nullptr);
    INFO(errors_of(report));
    CHECK(archive->errors.empty());
    CHECK(archive->new_messages == 1);
    CHECK(f.stored("Archive") == f.on_server("Archive"));
    // The next run stores the rest, once.
    fs->clear_rules();
    auto again = f.backup();
    INFO(errors_of(again));
    REQUIRE(report_ok(again));
    check_store_matches(f);
    CHECK(fs->undurable_renames().empty());
}

TEST_CASE("a worker whose second catalog handle cannot be opened syncs on without the overlap",
          "[sync][workers]") {
    ModelFixture f;
    auto fs = two_mailboxes_changed(f);
    std::atomic<int> opened{0};
    auto options = f.options;
    options.open_catalog = [&]() -> std::unique_ptr<store::Catalog> {
        ++opened;
        throw store::CatalogUnreachable("catalog: too many clients already", true);
    };
    auto report = sync::backup_account(f.account, *f.store.catalog, *f.store.messages, options);
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    CHECK(opened == 1);  // once, when INBOX gave the connection up
    check_store_matches(f);
}

TEST_CASE("a run stopped at any durable step with mailboxes overlapping loses nothing",
          "[sync][durability][stop]") {
    // Every step of the changed run, until a run is no longer stopped.
    std::uint64_t stop_after = 1;
    for (;; ++stop_after) {
        INFO("stopped after step " << stop_after);
        ModelFixture f;
        auto fs = two_mailboxes_changed(f);
        bool stopped = false;
        try {
            f.backup(stop_after);
        } catch (const sync::StopRequested&) {
            stopped = true;
        }
        auto report = f.backup();
        INFO(errors_of(report));
        REQUIRE(report_ok(report));
        check_store_matches(f);
        CHECK(fs->undurable_renames().empty());
        if (!stopped) break;
    }
    // Each mailbox commits its changes, then its new mail.
    CHECK(stop_after > 4);
}
