// What a stale worker (its lease expired and another worker took the account
// over, postgres_catalog.hpp "Write fence") can still do to the message files:
// a backup run on a fenced catalog against the model server, with the lease
// taken over while a rename into cur/ is held (FaultFileSystem).
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <imapkeep/fleet/lease.hpp>
#include <imapkeep/store/postgres_catalog.hpp>
#include <thread>

#include "fleet_fixture.hpp"
#include "support/fault_file_system.hpp"
#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
using imapkeep::test::FaultFileSystem;
using imapkeep::test::FleetFixture;
using imapkeep::test::FsOp;
using namespace std::chrono_literals;

namespace {

struct StaleWriter : FleetFixture {
    ModelFixture model;

    std::unique_ptr<store::Catalog> open(const std::optional<fleet::Lease>& lease) const {
        store::PostgresCatalogOptions options;
        options.conninfo = backend->conninfo();
        options.schema = backend->schema();
        options.serialize_writers = false;  // as a worker's
        if (lease)
            options.fence =
                store::PostgresWriteFence{lease->account.name, lease->owner, lease->generation, {}};
        return store::open_postgres_catalog(options);
    }

    // A worker's run holding `lease`, its Maildir writes through `fs`.
    sync::AccountReport backup(const fleet::Lease& lease, std::shared_ptr<FaultFileSystem> fs) {
        auto catalog = open(lease);
        auto messages = store::open_maildir_store(model.dir.path.string(), {true, fs});
        sync::BackupOptions options;
        options.open_catalog = [this, lease] { return open(lease); };
        options.overlap_mailboxes = false;  // as a fleet worker's (cmd_worker.cpp)
        return sync::backup_account(model.account, *catalog, *messages, options);
    }

    // The run holds the first rename into `needle` while the lease (1 s)
    // expires and worker B takes the account over; then goes on.
    sync::AccountReport backup_taken_over(const std::string& needle) {
        auto db_a = connect();
        auto db_b = connect();
        fleet::Leases a(*db_a), b(*db_b);
        auto lease = a.claim("worker-a", 1000ms);
        REQUIRE(lease);
        auto fs = std::make_shared<FaultFileSystem>();
        auto gate = fs->hold(FsOp::Rename, needle);
        sync::AccountReport report;
        std::thread run([&] { report = backup(*lease, fs); });
        gate->wait_arrived();
        std::this_thread::sleep_for(1200ms);
        const bool taken = b.claim("worker-b", 60s).has_value();
        gate->release();
        run.join();
        REQUIRE(taken);
        return report;
    }

    // Catalog rows (any mailbox, live or expunged) of the account.
    std::size_t rows() const {
        auto catalog = open(std::nullopt);
        auto id = catalog->find_account(model.account.name);
        std::size_t n = 0;
        if (id)
            for (const auto& box : catalog->mailboxes(*id, true))
                n += catalog->all_messages(box.id).size();
        return n;
    }

    // Files in the account's cur/ and new/ directories: what a mail reader shows.
    std::size_t files() const {
        std::size_t n = 0;
        for (const auto& e : std::filesystem::recursive_directory_iterator(model.dir.path / "mail" /
                                                                           model.account.name)) {
            const auto leaf = e.path().parent_path().filename();
            if (e.is_regular_file() && (leaf == "cur" || leaf == "new")) ++n;
        }
        return n;
    }
};

void add_messages(ModelServer& server, const std::string& mailbox, int from, int count) {
    for (int i = from; i < from + count; ++i)
        server.append(mailbox, message(mailbox + "-" + std::to_string(i)), {"\\Seen"});
}

}  // namespace

TEST_CASE("a stale worker whose chunk commit is refused leaves none of its files",
          "[fleet][fence][orphans]") {
    // The new holder may already have cleared the mailbox's files_pending
    // marker: nothing would ever sweep files the refused chunk renamed.
    StaleWriter f;
    if (!f.backend) return;
    f.add_accounts(1);
    f.model.account.name = "a00";
    f.model.account.connections = 1;
    f.model.server.add_mailbox("A");
    add_messages(f.model.server, "A", 0, 5);

    auto report = f.backup_taken_over("/.A/cur/");
    CHECK_FALSE(report_ok(report));
    CHECK(f.rows() == 0);
    CHECK(f.files() == f.rows());  // every file in the Maildir is named by a row
}

TEST_CASE("a stale worker deletes no file in an orphan sweep", "[fleet][fence][orphans]") {
    // The new holder's renamed files wait in cur/ for its commit; the stale
    // worker's sweep would take them for its own orphans.
    StaleWriter f;
    if (!f.backend) return;
    f.add_accounts(1);
    f.model.account.name = "a00";
    f.model.account.connections = 1;
    for (const char* name : {"A", "B"}) {
        f.model.server.add_mailbox(name);
        add_messages(f.model.server, name, 0, 2);
    }
    {
        auto db = f.connect();
        fleet::Leases leases(*db);
        auto lease = leases.claim("worker-0", 60s);
        REQUIRE(lease);
        REQUIRE(report_ok(f.backup(*lease, std::make_shared<FaultFileSystem>())));
        REQUIRE(leases.release(*lease, fleet::RunOutcome{0, "ok", "", true}));  // due again
    }
    for (const char* name : {"A", "B"}) add_messages(f.model.server, name, 2, 2);
    // B's folder: a file no row names yet, and the marker that makes a run sweep.
    std::filesystem::path planted;
    {
        auto catalog = f.open(std::nullopt);
        const auto b = catalog->find_mailbox(*catalog->find_account("a00"), "B");
        REQUIRE(b);
        catalog->set_files_pending(b->id, true);
        planted = f.model.dir.path / "mail" / "a00" / b->folder / "cur" /
                  "1700000000.M1P1Q1.holder-b:2,S";
        std::ofstream(planted) << "From: b\r\n\r\nnot yet cataloged\r\n";
    }
    const auto before = f.files();

    // A (synced first) has its commit refused; B is then synced by a worker
    // that lost the lease.
    f.backup_taken_over("/.A/cur/");
    CHECK(std::filesystem::exists(planted));
    CHECK(f.files() == before);
}
