// What only the PostgreSQL catalog has: its migrations (the twins of the
// SQLite ones, the schema_version table), its writer lock, and COMMIT
// answered with ROLLBACK. The contract it shares with SQLite is
// catalog_contract_test.cpp.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <imapkeep/store/postgres_catalog.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <sstream>
#include <thread>

#include "catalog_backends.hpp"
#include "store/migrations.hpp"
#include "store/postgres/pg_migrations.hpp"

using namespace imapkeep::store;
using imapkeep::test::PostgresBackend;
using namespace std::chrono_literals;

namespace {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

MessageRecord a_message(Id mailbox, std::uint32_t uid) {
    MessageRecord m;
    m.mailbox_id = mailbox;
    m.uidvalidity = 1;
    m.uid = uid;
    m.sha256 = std::string(64, 'b');
    m.file = "mail/a/cur/" + std::to_string(uid);
    m.added_at = 10;
    return m;
}

Id an_inbox(Catalog& catalog) {
    MailboxRecord box;
    box.account_id = catalog.ensure_account("a");
    box.name = "INBOX";
    return catalog.save_mailbox(box);
}

}  // namespace

TEST_CASE("every SQLite migration has its PostgreSQL twin, and no other",
          "[store][migrations][postgres]") {
    const auto& sqlite = compiled_migrations();
    const auto& postgres = compiled_postgres_migrations();
    REQUIRE_FALSE(sqlite.empty());
    CHECK_NOTHROW(check_migrations(postgres));
    for (std::size_t i = 0; i < std::max(sqlite.size(), postgres.size()); ++i) {
        const std::string want = i < sqlite.size() ? sqlite[i].name : "(none)";
        const std::string have = i < postgres.size() ? postgres[i].name : "(none)";
        INFO("schema/" << want << " -> schema/postgres/" << have);
        CHECK(want == have);
    }
    CHECK(postgres_catalog_schema_version() == catalog_schema_version());
}

TEST_CASE("compiled PostgreSQL migrations are schema/postgres/*.sql byte for byte",
          "[store][migrations][postgres]") {
    std::vector<std::filesystem::path> files;
    for (const auto& entry :
         std::filesystem::directory_iterator(IMAPKEEP_SOURCE_DIR "/schema/postgres"))
        if (entry.path().extension() == ".sql") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    const auto& compiled = compiled_postgres_migrations();
    REQUIRE(compiled.size() == files.size());
    for (std::size_t i = 0; i < files.size(); ++i) {
        CHECK(compiled[i].name == files[i].filename().string());
        CHECK(compiled[i].sql == read_file(files[i]));
    }
}

TEST_CASE("a new PostgreSQL catalog records each migration in schema_version",
          "[store][migrations][postgres]") {
    auto backend = imapkeep::test::make_postgres_backend();
    if (!backend) return;
    backend->open();
    auto& admin = backend->admin();
    const auto schema = admin.quote_identifier(backend->schema());
    auto rows =
        admin.exec("SELECT version, name FROM " + schema + ".schema_version ORDER BY version");
    const auto& migrations = compiled_postgres_migrations();
    REQUIRE(rows.rows() == static_cast<int>(migrations.size()));
    for (int i = 0; i < rows.rows(); ++i) {
        CHECK(rows.int64(i, 0) == i + 1);
        CHECK(rows.text(i, 1) == migrations[static_cast<std::size_t>(i)].name);
    }
    // Opening again applies nothing.
    backend->open();
    CHECK(admin.exec("SELECT count(*) FROM " + schema + ".schema_version").int64(0, 0) ==
          rows.rows());
}

TEST_CASE("connections opening a new PostgreSQL catalog at once apply each step once",
          "[store][migrations][postgres]") {
    auto backend = imapkeep::test::make_postgres_backend();
    if (!backend) return;
    std::vector<std::thread> threads;
    std::vector<std::string> errors(4);
    for (std::size_t t = 0; t < errors.size(); ++t)
        threads.emplace_back([&, t] {
            try {
                backend->open()->ensure_account("t" + std::to_string(t));
            } catch (const std::exception& e) {
                errors[t] = e.what();
            }
        });
    for (auto& t : threads) t.join();
    for (const auto& e : errors) CHECK(e.empty());
    auto& admin = backend->admin();
    CHECK(admin
              .exec("SELECT count(*) FROM " + admin.quote_identifier(backend->schema()) +
                    ".schema_version")
              .int64(0, 0) == postgres_catalog_schema_version());
    CHECK(backend->open()->account_names().size() == 4);
}

TEST_CASE("a PostgreSQL catalog newer than this build is refused and left untouched",
          "[store][migrations][postgres]") {
    auto backend = imapkeep::test::make_postgres_backend();
    if (!backend) return;
    backend->open()->ensure_account("kept");
    auto& admin = backend->admin();
    const auto schema = admin.quote_identifier(backend->schema());
    const int newer = postgres_catalog_schema_version() + 1;
    admin.exec("INSERT INTO " + schema + ".schema_version(version, name) VALUES (" +
               std::to_string(newer) + ", 'from_the_future.sql')");
    try {
        backend->open();
        FAIL("a newer catalog was opened");
    } catch (const StoreError& e) {
        CHECK_THAT(e.what(), Catch::Contains("newer than this imapkeep supports"));
    }
    CHECK(admin.exec("SELECT max(version) FROM " + schema + ".schema_version").int64(0, 0) ==
          newer);
    CHECK(admin.exec("SELECT count(*) FROM " + schema + ".account").int64(0, 0) == 1);
}

TEST_CASE("PostgreSQL writers take turns: a second begin() waits for the first commit",
          "[store][catalog][lock][postgres]") {
    auto backend = imapkeep::test::make_postgres_backend();
    if (!backend) return;
    for (const bool serialize : {true, false}) {
        INFO("serialize_writers " << serialize);
        auto first = backend->open(serialize);
        auto second = backend->open(serialize);
        first->begin();
        first->ensure_account("first");
        std::atomic<bool> began{false};
        std::string error;
        std::thread other([&] {
            try {
                second->begin();
                began = true;
                second->ensure_account("second");
                second->commit();
            } catch (const std::exception& e) {
                error = e.what();
                began = true;
            }
        });
        std::this_thread::sleep_for(300ms);
        // Serialized, the second writer is still waiting for the first one's lock.
        CHECK(began.load() == !serialize);
        first->commit();
        other.join();
        CHECK(error.empty());
        CHECK(first->find_account("second").has_value());
    }
}

TEST_CASE("a PostgreSQL transaction the server aborted fails at commit(), with nothing kept",
          "[store][catalog][postgres]") {
    // PostgreSQL answers COMMIT with ROLLBACK when a statement of the
    // transaction failed outside a savepoint. commit() returning normally
    // would tell sync the rows are durable (invariant 1): it must throw.
    auto backend = imapkeep::test::make_postgres_backend();
    if (!backend) return;
    auto catalog = backend->open();
    const Id inbox = an_inbox(*catalog);
    auto& admin = backend->admin();
    const auto schema = admin.quote_identifier(backend->schema());
    // A read that fails inside the transaction: its table is gone for a moment.
    admin.exec("ALTER TABLE " + schema + ".label_history RENAME TO label_history_away");
    catalog->begin();
    catalog->add_message(a_message(inbox, 1));
    CHECK_THROWS_AS(catalog->label_history(1), StoreError);
    CHECK_THROWS_AS(catalog->commit(), StoreError);
    catalog->rollback();  // nothing left to roll back: no error
    admin.exec("ALTER TABLE " + schema + ".label_history_away RENAME TO label_history");
    CHECK(catalog->messages(inbox).empty());
    // The connection goes on.
    catalog->add_message(a_message(inbox, 2));
    CHECK(catalog->messages(inbox).size() == 1);
}

TEST_CASE("a PostgreSQL catalog needs a reachable server and says which",
          "[store][catalog][postgres]") {
    PostgresCatalogOptions options;
    options.conninfo = "host=127.0.0.1 port=1 connect_timeout=2 user=nobody";
    try {
        open_postgres_catalog(options);
        FAIL("connected to port 1");
    } catch (const StoreError& e) {
        CHECK_THAT(e.what(), Catch::Contains("cannot connect to PostgreSQL"));
    }
}

TEST_CASE("PostgreSQL round trips: one per batch of new messages, one per flag change",
          "[store][catalog][postgres][bounded]") {
    // Each statement is a round trip to the server (unlike SQLite's calls):
    // a durable step of a cold backup must not cost several per message.
    auto backend = imapkeep::test::make_postgres_backend();
    if (!backend) return;
    auto catalog = backend->open();
    const Id inbox = an_inbox(*catalog);
    auto step = [&](std::uint32_t first_uid, std::uint32_t count) {
        std::vector<MessageRecord> batch;
        for (std::uint32_t uid = first_uid; uid < first_uid + count; ++uid)
            batch.push_back(a_message(inbox, uid));
        catalog->begin();
        const auto ids = catalog->add_messages(batch);
        for (Id id : ids) catalog->update_flags(id, {"\\Seen"}, 2, "mail/a/cur/x", 20);
        catalog->commit();
    };
    step(1, 200);  // prepares the statements (one INSERT per batch size)
    const auto before = postgres_round_trips(*catalog);
    step(1000, 200);
    const auto used = postgres_round_trips(*catalog) - before;
    INFO(used << " round trips for 200 messages and 200 flag changes");
    // BEGIN with the lock, SAVEPOINT, one INSERT for the batch, RELEASE,
    // 200 flag updates, COMMIT.
    CHECK(used <= 200 + 5);
    imapkeep::test::SqliteBackend sqlite;
    CHECK(postgres_round_trips(*sqlite.open()) == 0);
}

TEST_CASE(
    "a PostgreSQL catalog whose connection was cut reconnects, but never inside a transaction",
    "[store][catalog][postgres]") {
    auto backend = imapkeep::test::make_postgres_backend();
    if (!backend) return;
    auto catalog = backend->open();
    const Id inbox = an_inbox(*catalog);
    catalog->add_message(a_message(inbox, 1));

    backend->cut_connections();
    // The call that meets the cut fails; the next one works on a new session
    // (its statements prepared again, search_path set again).
    CHECK_THROWS_AS(catalog->messages(inbox), StoreError);
    CHECK(catalog->messages(inbox).size() == 1);

    catalog->begin();
    catalog->add_message(a_message(inbox, 2));
    backend->cut_connections();
    // The transaction's work is gone with its connection: nothing may
    // pretend otherwise, commit() included.
    CHECK_THROWS_AS(catalog->add_message(a_message(inbox, 3)), StoreError);
    CHECK_THROWS_AS(catalog->messages(inbox), StoreError);
    CHECK_THROWS_AS(catalog->commit(), StoreError);
    catalog->rollback();
    const auto left = catalog->messages(inbox);
    REQUIRE(left.size() == 1);
    CHECK(left[0].uid == 1);
}

TEST_CASE("describe_postgres_catalog names host, database and schema, never the password",
          "[store][postgres]") {
    struct Row {
        const char* conninfo;
        const char* expected;
    };
    const Row rows[] = {
        {"postgresql://backup:s3cret@db.example/mail", "PostgreSQL db.example/mail, schema imapkeep"},
        {"host=db.example dbname=mail password=s3cret", "PostgreSQL db.example/mail, schema imapkeep"},
        {"postgresql://db.example", "PostgreSQL db.example, schema imapkeep"},
        {"not a = valid = string", "PostgreSQL (unreadable connection string), schema imapkeep"},
    };
    for (const auto& row : rows) {
        INFO(row.conninfo);
        PostgresCatalogOptions options;
        options.conninfo = row.conninfo;
        CHECK(describe_postgres_catalog(options) == row.expected);
    }
}
