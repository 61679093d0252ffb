// Issue 10, "no-change: one connection and one transaction": a backup run in
// which no account has anything new writes one catalog transaction, the run
// record together with the last-sync times of the mailboxes it found
// unchanged, and starts no run record of its own before that.
#include <catch2/catch.hpp>
#include <ctime>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <imapkeep/sync/backup.hpp>

#include "cli_fixture.hpp"
#include "support/catalog_commits.hpp"
#include "support/model_server.hpp"
#include "support/sqlite_sync_counter.hpp"

using cli_test::CliFixture;
using namespace imapkeep;

namespace {

// The real engine, with every configured account on the model server.
cli::Services on_model(testing::ModelServer& server) {
    return {[&server](const sync::AccountConfig& account, store::Catalog& catalog,
                      store::MessageStore& messages, const sync::BackupOptions& options) {
        sync::AccountConfig on_server = account;
        on_server.connect = server.connect_options();
        return sync::backup_account(on_server, catalog, messages, options);
    }};
}

// INBOX with one message, backed up twice: the catalog and its log as a
// daily run finds them. The catalog's syncs are counted (SqliteSyncCounter).
struct BackedUpTwice {
    testing::ModelServer server;
    CliFixture f;
    cli::Services services;

    BackedUpTwice() {
        server.add_mailbox("INBOX");
        server.append("INBOX", "Subject: one\r\n\r\nbody\r\n");
        test::SqliteSyncCounter::install();
        services = on_model(server);
        REQUIRE(f.run({"backup", "--config", f.config, "-q"}, services).code == 0);
        REQUIRE(f.run({"backup", "--config", f.config, "-q"}, services).code == 0);
    }

    // The next backup, with the sync counts from zero.
    void back_up_counted() {
        test::SqliteSyncCounter::reset();
        const auto r = f.run({"backup", "--config", f.config, "-q"}, services);
        INFO(r.err);
        REQUIRE(r.code == 0);
    }

    // What the run wrote is there for the next reader, whatever is still in
    // the log.
    void check_run_recorded() {
        auto catalog = store::open_sqlite_catalog(f.store + "/catalog.sqlite");
        const auto run = catalog->last_run("backup");
        REQUIRE(run);
        CHECK(run->status == "ok");
    }
};

}  // namespace

TEST_CASE("a no-change backup commits one catalog transaction", "[backup][nochange]") {
    testing::ModelServer server;
    for (const char* name : {"INBOX", "A", "B"}) {
        server.add_mailbox(name);
        server.append(name, std::string("Subject: ") + name + "\r\n\r\nbody\r\n");
    }
    test::SqliteSyncCounter::install();
    CliFixture f;
    const auto services = on_model(server);
    REQUIRE(f.run({"backup", "--config", f.config, "-q"}, services).code == 0);
    REQUIRE(f.run({"backup", "--config", f.config, "-q"}, services).code == 0);

    const std::string path = f.store + "/catalog.sqlite";
    test::CatalogCommits commits(path);
    commits.start();
    auto held = store::open_sqlite_catalog(path);  // so no close checkpoints the log
    const auto started = std::time(nullptr);
    test::SqliteSyncCounter::reset();
    auto r = f.run({"backup", "--config", f.config, "-q"}, services);
    INFO(r.err);
    REQUIRE(r.code == 0);
    // The log's new header and the one commit (`held` is open, so no close
    // checkpoints). Before: five, for begin_run, two settles and finish_run.
    CHECK(test::SqliteSyncCounter::syncs() <= 2);
    CHECK(commits.commits() == 1);

    auto run = held->last_run("backup");
    REQUIRE(run);
    CHECK(run->status == "ok");
    CHECK(run->started_at >= started);
    for (const char* account : {"work", "home"}) {
        INFO(account);
        auto id = held->find_account(account);
        REQUIRE(id);
        for (const auto& m : held->mailboxes(*id)) {
            INFO(m.name);
            CHECK(m.last_sync_at.value_or(0) >= started);
        }
    }
}

TEST_CASE("a no-change backup syncs the catalog once, closing included", "[backup][nochange]") {
    BackedUpTwice b;
    b.back_up_counted();
    // The commit. Before: closing the last connection checkpointed the log
    // into the database (two syncs) and deleted it, so the next run made it
    // again (its header's sync, the directory's): five per run.
    CHECK(test::SqliteSyncCounter::syncs() == 1);
    b.check_run_recorded();
}

// Issue 10: a backup's start record rides on its first change's sync; only
// the changes' commits and the run's end sync the catalog's log.
TEST_CASE("a backup's start record takes no sync of its own", "[backup][nochange]") {
    BackedUpTwice b;
    // One new message, seen by both accounts of the fixture: each commits
    // its files-pending marker and its new mail, then the run's end. Before:
    // a sixth, for the start record. (A checkpoint's syncs of the database
    // are not the log's.)
    b.server.append("INBOX", "Subject: two\r\n\r\nbody\r\n");
    b.back_up_counted();
    CHECK(test::SqliteSyncCounter::syncs() - test::SqliteSyncCounter::database_syncs() == 5);
    b.check_run_recorded();
}
