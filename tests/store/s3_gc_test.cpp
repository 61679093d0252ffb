// `imapkeep gc` on the S3 store (s3_gc.hpp, blob_ledger.hpp) against the test
// Ceph RGW and PostgreSQL: what it deletes, what it keeps, and the races with
// writers that its mark/claim protocol exists for. The run's clock is moved
// (S3GcOptions::now) instead of waiting; the interleavings are driven by the
// test hooks and by a second store handle, never by sleeps.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <imapkeep/store/postgres_blob_ledger.hpp>
#include <imapkeep/store/s3_gc.hpp>
#include <imapkeep/util/sha256.hpp>
#include <iostream>
#include <mutex>
#include <thread>

#include "catalog_backends.hpp"
#include "message_store_backends.hpp"
#include "message_store_io.hpp"

using namespace imapkeep::store;
using imapkeep::test::put;
using imapkeep::test::read_row;

namespace {

constexpr std::int64_t kDay = 24 * 3600;
const std::string kOld = "From: a@example.org\r\nSubject: gc\r\n\r\nunreferenced\r\n";
const std::string kKept = "From: a@example.org\r\nSubject: gc\r\n\r\nreferenced\r\n";

std::int64_t real_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string file_of(const std::string& body) {
    return "s3:" + s3_blob_key(imapkeep::util::sha256_hex(body));
}

// One catalog (a PostgreSQL schema of its own) and one S3 prefix, with a
// writer store that claims through a ledger of its own, as a worker on
// another host would.
class GcFixture {
  public:
    bool ready() {
        m_pg = imapkeep::test::make_postgres_backend();
        m_s3 = imapkeep::test::make_s3_backend();
        if (!m_pg || !m_s3) return false;
        m_catalog = m_pg->open();
        m_ledger = open_postgres_blob_ledger(ledger_options());
        m_writer_claims = open_postgres_blob_ledger(ledger_options());
        m_writer = writer_store(m_writer_claims);
        return true;
    }

    PostgresCatalogOptions ledger_options() const {
        PostgresCatalogOptions options;
        options.conninfo = m_pg->conninfo();
        options.schema = m_pg->schema();
        return options;
    }
    // Another store on the same bucket and prefix (another host's worker).
    std::unique_ptr<MessageStore> writer_store(std::shared_ptr<BlobClaims> claims) const {
        auto options = m_s3->options();
        options.claims = std::move(claims);
        return open_s3_message_store(options);
    }
    MessageStore& writer() { return *m_writer; }
    Catalog& catalog() { return *m_catalog; }
    BlobLedger& ledger() { return *m_ledger; }
    imapkeep::test::PostgresBackend& pg() { return *m_pg; }
    imapkeep::test::S3Backend& s3() { return *m_s3; }

    // The catalog row of a stored message, in `account`'s INBOX.
    Id add_row(const std::string& account, const MessageRecord& stored, std::uint32_t uid) {
        const Id account_id = m_catalog->ensure_account(account);
        auto mailbox = m_catalog->find_mailbox(account_id, "INBOX");
        Id mailbox_id = mailbox ? mailbox->id : 0;
        if (!mailbox) {
            MailboxRecord record;
            record.account_id = account_id;
            record.name = "INBOX";
            record.delimiter = "/";
            record.uidvalidity = 1;
            mailbox_id = m_catalog->save_mailbox(record);
        }
        MessageRecord row = stored;
        row.mailbox_id = mailbox_id;
        row.uidvalidity = 1;
        row.uid = uid;
        row.added_at = real_now();
        return m_catalog->add_message(row);
    }

    bool exists(const std::string& body) {
        const std::string key = m_s3->options().prefix + file_of(body).substr(3);
        return m_s3->client().head_object(m_s3->options().bucket, key).has_value();
    }

    S3GcReport gc(std::int64_t days_later, bool dry_run = false, S3GcOptions options = {}) {
        options.now = real_now() + days_later * kDay;
        options.grace = std::chrono::seconds(7 * kDay);
        options.dry_run = dry_run;
        return collect_s3_garbage(m_s3->options(), *m_ledger, options);
    }

  private:
    std::unique_ptr<imapkeep::test::PostgresBackend> m_pg;
    std::unique_ptr<imapkeep::test::S3Backend> m_s3;
    std::unique_ptr<Catalog> m_catalog;
    std::shared_ptr<BlobLedger> m_ledger;
    std::shared_ptr<BlobLedger> m_writer_claims;
    std::unique_ptr<MessageStore> m_writer;
};

}  // namespace

TEST_CASE(
    "gc deletes an unreferenced old object a grace after marking it, and keeps referenced ones",
    "[store][s3][gc]") {
    GcFixture f;
    if (!f.ready()) return;
    const auto kept = put(f.writer(), "", 1, kKept);
    f.add_row("work", kept, 1);
    const std::string expunged_body = kKept + "expunged";
    auto expunged = put(f.writer(), "", 2, expunged_body);
    expunged.expunged_at = real_now();
    f.add_row("work", expunged, 2);
    // Only a Gmail label link names this one (its row names `kept`'s key).
    const std::string linked_body = kKept + "label link";
    put(f.writer(), "", 3, linked_body);
    auto holder = kept;
    const Id holder_id = f.add_row("work", holder, 3);
    f.catalog().set_label_links(holder_id, {{"Work", file_of(linked_body)}});
    put(f.writer(), "", 4, kOld);  // no row
    // Under the prefix but not a blob key: never touched.
    imapkeep::s3::MemorySource junk("not a message");
    const std::string junk_key =
        f.s3().options().prefix + "blobs/00/00/" + imapkeep::util::sha256_hex(kOld);
    f.s3().client().put_object(f.s3().options().bucket, junk_key, junk);

    const auto first = f.gc(8);
    CHECK(first.objects == 4);
    CHECK(first.other_keys == 1);
    CHECK(first.referenced == 3);
    CHECK(first.marked == 1);
    CHECK(first.deleted == 0);
    CHECK(f.exists(kOld));

    const auto waiting = f.gc(10);
    CHECK(waiting.waiting == 1);
    CHECK(waiting.deleted == 0);
    CHECK(f.exists(kOld));

    std::vector<std::string> names;
    S3GcOptions options;
    options.on_delete = [&](const std::string& name, std::uint64_t) { names.push_back(name); };
    const auto second = f.gc(16, false, options);
    CHECK(second.deleted == 1);
    CHECK(second.deleted_bytes == kOld.size());
    CHECK_FALSE(f.exists(kOld));
    REQUIRE(names.size() == 1);
    CHECK(names[0] == f.writer().absolute(file_of(kOld)));
    for (const auto& body : {kKept, expunged_body, linked_body}) CHECK(f.exists(body));
    CHECK(f.s3().client().head_object(f.s3().options().bucket, junk_key).has_value());
    CHECK(f.ledger().marks({file_of(kOld)}).empty());
}

TEST_CASE(
    "gc keeps an unreferenced object younger than the grace (an upload whose row is on its way)",
    "[store][s3][gc]") {
    GcFixture f;
    if (!f.ready()) return;
    const auto stored = put(f.writer(), "", 1, kOld);  // PUT done, row not committed yet
    for (int day : {0, 6}) {
        const auto report = f.gc(day);
        CHECK(report.young == 1);
        CHECK(report.marked == 0);
    }
    CHECK(f.ledger().marks({stored.file}).empty());
    f.add_row("work", stored, 1);  // the row arrives
    CHECK(f.gc(8).referenced == 1);
    CHECK(f.gc(16).deleted == 0);
    CHECK(read_row(f.writer(), stored) == kOld);
}

TEST_CASE("gc does not delete a marked object that a writer reused before its row was committed",
          "[store][s3][gc]") {
    GcFixture f;
    if (!f.ready()) return;
    put(f.writer(), "", 1, kOld);  // an orphan: its row never came
    CHECK(f.gc(8).marked == 1);    // a first run finds it unreferenced and old
    // Another host backs up the same bytes: HEAD finds the object, no PUT;
    // its row is not committed yet when gc sweeps.
    auto other_host = f.writer_store(open_postgres_blob_ledger(f.ledger_options()));
    const auto reused = put(*other_host, "", 7, kOld, {}, "other-account");
    const auto sweep = f.gc(16);
    CHECK(sweep.deleted == 0);
    f.add_row("other-account", reused, 7);
    REQUIRE(f.exists(kOld));
    CHECK(read_row(f.writer(), reused) == kOld);
}

TEST_CASE("gc waits a grace after marking an object a writer claimed before the mark",
          "[store][s3][gc]") {
    GcFixture f;
    if (!f.ready()) return;
    put(f.writer(), "", 1, kOld);  // an old orphan
    // Another host reuses it (claim, HEAD: there) before any mark exists...
    auto other_host = f.writer_store(open_postgres_blob_ledger(f.ledger_options()));
    const auto reused = put(*other_host, "", 7, kOld, {}, "other-account");
    // ...and gc marks it while that host's row is on its way: the one case
    // the claims cannot see. The grace after the mark covers it.
    CHECK(f.gc(8).marked == 1);
    const auto within = f.gc(14);
    CHECK(within.waiting == 1);
    CHECK(within.deleted == 0);
    f.add_row("other-account", reused, 7);  // committed within the grace
    const auto after = f.gc(16);
    CHECK(after.referenced == 1);
    CHECK(after.deleted == 0);
    CHECK(f.ledger().marks({reused.file}).empty());
    CHECK(read_row(f.writer(), reused) == kOld);
}

TEST_CASE("a writer that claims an object while gc sweeps it waits, then uploads it again",
          "[store][s3][gc]") {
    GcFixture f;
    if (!f.ready()) return;
    put(f.writer(), "", 1, kOld);
    REQUIRE(f.gc(8).marked == 1);
    auto other_host = f.writer_store(open_postgres_blob_ledger(f.ledger_options()));
    std::atomic<bool> written{false};
    MessageRecord reused;
    std::thread writer;
    S3GcOptions options;
    // Inside the sweep's transaction, rows checked, object not deleted yet:
    // the writer starts, and the sweep goes on once the writer either waits
    // on the mark's lock or is done.
    options.before_delete = [&](const std::string&) {
        writer = std::thread([&] {
            reused = put(*other_host, "", 7, kOld, {}, "other-account");
            written = true;
        });
        for (int i = 0; i < 1000 && !written; ++i) {
            const auto waiting = f.pg().admin().query(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1::text"
                " AND wait_event_type = 'Lock'",
                f.pg().schema());
            if (waiting.int64(0, 0) > 0) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        CHECK(written);  // neither waiting nor done after 10 s: something hangs
    };
    const auto sweep = f.gc(16, false, options);
    REQUIRE(writer.joinable());
    writer.join();
    CHECK(sweep.deleted == 1);
    f.add_row("other-account", reused, 7);
    REQUIRE(f.exists(kOld));
    CHECK(read_row(f.writer(), reused) == kOld);
}

TEST_CASE("a server's idle_in_transaction_session_timeout does not end a sweep waiting for S3",
          "[store][s3][gc]") {
    GcFixture f;
    if (!f.ready()) return;
    put(f.writer(), "", 1, kOld);
    REQUIRE(f.gc(8).marked == 1);
    // The server's default for these sessions: 100 ms idle in a transaction.
    auto options = f.ledger_options();
    const bool uri = options.conninfo.find("://") != std::string::npos;
    options.conninfo += uri ? "&options=-c%20idle_in_transaction_session_timeout%3D100"
                            : " options='-c idle_in_transaction_session_timeout=100'";
    auto ledger = open_postgres_blob_ledger(options);
    S3GcOptions gc;
    gc.now = real_now() + 16 * kDay;
    gc.grace = std::chrono::seconds(7 * kDay);
    // A slow S3 DELETE, inside the sweep's transaction.
    gc.before_delete = [](const std::string&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
    };
    S3GcReport report;
    REQUIRE_NOTHROW(report = collect_s3_garbage(f.s3().options(), *ledger, gc));
    CHECK(report.deleted == 1);
    CHECK(f.ledger().marks({file_of(kOld)}).empty());
}

TEST_CASE("gc keeps a marked object whose row was committed after it looked the page up",
          "[store][s3][gc]") {
    GcFixture f;
    if (!f.ready()) return;
    const auto stored = put(f.writer(), "", 1, kOld);
    REQUIRE(f.gc(8).marked == 1);
    S3GcOptions options;
    options.before_sweep = [&](const std::string& file) {
        CHECK(file == stored.file);
        f.add_row("work", stored, 1);
    };
    const auto sweep = f.gc(16, false, options);
    CHECK(sweep.deleted == 0);
    CHECK(sweep.kept_at_sweep == 1);
    CHECK(f.exists(kOld));
    CHECK(f.ledger().marks({stored.file}).empty());
}

TEST_CASE("gc keeps a blob two accounts share until the last row naming it is gone",
          "[store][s3][gc]") {
    GcFixture f;
    if (!f.ready()) return;
    const auto a = put(f.writer(), "", 1, kKept, {}, "alice");
    const auto b = put(f.writer(), "", 9, kKept, {}, "bob");
    REQUIRE(a.file == b.file);
    const Id alice_row = f.add_row("alice", a, 1);
    const Id bob_row = f.add_row("bob", b, 9);
    f.catalog().delete_message(alice_row);
    CHECK(f.gc(8).referenced == 1);
    CHECK(f.gc(16).deleted == 0);
    CHECK(f.exists(kKept));
    f.catalog().delete_message(bob_row);
    CHECK(f.gc(24).marked == 1);
    CHECK(f.gc(32).deleted == 1);
    CHECK_FALSE(f.exists(kKept));
}

TEST_CASE("gc --dry-run counts what it would mark and delete, and changes nothing",
          "[store][s3][gc]") {
    GcFixture f;
    if (!f.ready()) return;
    const auto stored = put(f.writer(), "", 1, kOld);
    const auto would_mark = f.gc(8, true);
    CHECK(would_mark.marked == 1);
    CHECK(f.ledger().marks({stored.file}).empty());
    REQUIRE(f.gc(8).marked == 1);
    std::uint64_t announced = 0;
    S3GcOptions options;
    options.on_delete = [&](const std::string&, std::uint64_t size) { announced += size; };
    const auto would_delete = f.gc(16, true, options);
    CHECK(would_delete.deleted == 1);
    CHECK(would_delete.deleted_bytes == kOld.size());
    CHECK(announced == kOld.size());
    CHECK(f.exists(kOld));
    CHECK(f.ledger().marks({stored.file}).size() == 1);
}

TEST_CASE("gc forgets the marks of objects that are gone", "[store][s3][gc]") {
    GcFixture f;
    if (!f.ready()) return;
    const auto stored = put(f.writer(), "", 1, kOld);
    REQUIRE(f.gc(8).marked == 1);
    f.s3().client().delete_object(f.s3().options().bucket,
                                  f.s3().options().prefix + stored.file.substr(3));
    CHECK(f.gc(16).forgotten_marks == 1);
    CHECK(f.ledger().marks({stored.file}).empty());
}

namespace {

// Records each claim, and whether the object was in S3 at that moment.
class RecordingClaims final : public BlobClaims {
  public:
    explicit RecordingClaims(imapkeep::test::S3Backend& s3) : m_s3(s3) {}
    void claim(const std::vector<std::string>& files) override {
        std::lock_guard lock(m_mutex);
        calls.push_back(files);
        for (const auto& file : files)
            if (m_s3.client().head_object(m_s3.options().bucket,
                                          m_s3.options().prefix + file.substr(3)))
                ++already_there;
    }
    std::vector<std::vector<std::string>> calls;
    int already_there = 0;

  private:
    imapkeep::test::S3Backend& m_s3;
    std::mutex m_mutex;
};

}  // namespace

TEST_CASE("an S3 store claims each object before it uploads it, a batch in one claim",
          "[store][s3][gc]") {
    auto s3 = imapkeep::test::make_s3_backend();
    if (!s3) return;
    auto claims = std::make_shared<RecordingClaims>(*s3);
    auto options = s3->options();
    options.claims = claims;
    auto store = open_s3_message_store(options);
    std::vector<std::unique_ptr<PendingMessage>> batch;
    for (int i = 0; i < 20; ++i) {
        batch.push_back(store->begin("work", ""));
        batch.back()->write(kOld + std::to_string(i));
        batch.back()->finish();
    }
    store->sync_pending();
    REQUIRE(claims->calls.size() == 1);
    CHECK(claims->calls[0].size() == 20);
    for (auto& pending : batch) store->commit(*pending, "work", "", 1, 0, {});
    CHECK(claims->calls.size() == 1);  // commit found them uploaded and claimed
    // Without sync_pending, commit claims its own object, before the upload.
    put(*store, "", 1, kKept);  // put() runs sync_pending: one more batch claim
    auto alone = store->begin("work", "");
    alone->write(kKept + "alone");
    alone->finish();
    store->commit(*alone, "work", "", 2, 0, {});
    REQUIRE(claims->calls.size() == 3);
    CHECK(claims->calls[2] == std::vector<std::string>{file_of(kKept + "alone")});
    CHECK(claims->already_there == 0);  // every claim came before its PUT
    CHECK(s3->object_keys().size() == 22);
}

// Not a check: what the protocol costs. Run with
//   build/tests/test_store "[.gc-bench]" -s
TEST_CASE("gc bench: a batch's claim, and gc runs over many objects", "[.gc-bench]") {
    GcFixture f;
    if (!f.ready()) return;
    constexpr int kMessages = 500;
    auto timed = [](auto&& work) {
        const auto start = std::chrono::steady_clock::now();
        work();
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    auto batch_into = [&](MessageStore& store, const std::string& tag) {
        std::vector<std::unique_ptr<PendingMessage>> batch;
        for (int i = 0; i < kMessages; ++i) {
            batch.push_back(store.begin("work", ""));
            batch.back()->write(kOld + tag + std::to_string(i));
            batch.back()->finish();
        }
        store.sync_pending();
        for (auto& pending : batch) store.commit(*pending, "work", "", 1, 0, {});
    };
    auto unclaimed = f.writer_store(nullptr);
    const double without = timed([&] { batch_into(*unclaimed, "a"); });
    const double with = timed([&] { batch_into(f.writer(), "b"); });
    const double reused = timed([&] { batch_into(f.writer(), "a"); });  // HEAD only
    const double mark = timed([&] { CHECK(f.gc(8).marked == 2 * kMessages); });
    const double sweep = timed([&] { CHECK(f.gc(16).deleted == 2 * kMessages); });
    std::cout << kMessages << " new messages, one batch: " << without << " s without claims, "
              << with << " s with; " << kMessages << " already there (claim + HEAD): " << reused
              << " s\ngc over " << 2 * kMessages << " unreferenced objects: mark run " << mark
              << " s, sweep run (one transaction and DELETE each) " << sweep << " s\n";
}
