// Each extra connection of a backup opens a catalog handle of its own (a
// second PostgreSQL session, an SQLite connection). A server out of
// connection slots refuses it: that worker gives its mailbox back and the
// run goes on with one connection less, as when the IMAP server wants fewer
// connections. Before, the exception left the worker's thread: std::terminate.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

TEST_CASE("a worker that cannot open its catalog handle leaves its mailbox to the others",
          "[sync][workers]") {
    ModelFixture f;
    const std::vector<std::string> names{"INBOX", "Archive", "Sent"};
    for (const auto& name : names) {
        f.server.add_mailbox(name);
        for (int i = 1; i <= 3; ++i) f.server.append(name, message(name + std::to_string(i)));
    }
    f.account.connections = 3;
    std::atomic<int> opened{0};
    std::vector<std::string> notes;
    std::mutex notes_mutex;
    auto options = f.options;
    // A catalog server's: the CLI gives a worker no second handle for the
    // overlap of its mailboxes (BackupOptions::overlap_mailboxes).
    options.overlap_mailboxes = false;
    options.open_catalog = [&, path = (f.store.root / "catalog.sqlite").string()] {
        ++opened;
        throw store::CatalogUnreachable(
            "catalog: cannot connect to PostgreSQL: FATAL:  sorry, too many clients already", true);
        return store::open_sqlite_catalog(path);
    };
    options.pacing_note = [&](const std::string& line) {
        std::lock_guard lock(notes_mutex);
        notes.push_back(line);
    };
    auto report = sync::backup_account(f.account, *f.store.catalog, *f.store.messages, options);
    INFO(errors_of(report));
    CHECK(report_ok(report));
    CHECK(opened == 2);  // one per extra connection, none for the first
    for (const auto& name : names) CHECK(f.stored(name) == f.on_server(name));
    std::string all;
    for (const auto& n : notes) all += n + "\n";
    INFO(all);
    CHECK(all.find("too many clients") != std::string::npos);
}
