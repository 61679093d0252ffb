// The worker fleet end to end (issue 13): the fleet users of the test Dovecot
// (fleet01..fleetNN, reached through the master user) imported with
// `imapkeep accounts import`, three `imapkeep worker --loop` processes on one
// PostgreSQL catalog and one store, one of them kill -9ed in the middle of the
// biggest account. Every account must end equal to its server (UIDs and
// SHA-256 of every message of every mailbox), every file verified and stored
// once, and the killed account finished by another worker once its lease
// (2 s here) expired. SIGTERM then stops the idle workers (exit 143).
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/postgres_catalog.hpp>
#include <imapkeep/store/verify.hpp>
#include <imapkeep/util/imap_date.hpp>
#include <imapkeep/util/sha256.hpp>
#include <map>
#include <random>
#include <set>

#include "integration/fleet_support.hpp"
#include "integration/imapkeep_process.hpp"
#include "store/catalog_backends.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr int kBigMessages = 240;  // the account the kill lands in

// Each run of the test adds messages no earlier run added (the fleet users
// keep their mail for the life of the test servers).
std::string message(const std::string& user, int i, const std::string& run, std::size_t pad) {
    std::string m = "From: s@example.org\r\nTo: " + user + "@example.org\r\nSubject: fleet " +
                    std::to_string(i) + "\r\nMessage-ID: <" + run + "." + user + "." +
                    std::to_string(i) + "@example.org>\r\n\r\n";
    for (std::size_t line = 0; line < pad; ++line)
        m += "padding line " + std::to_string(line) + " of " + run + "\r\n";
    return m;
}

void seed(int n, int count, std::size_t pad, const std::string& run) {
    auto c = imap::connect_and_login(fleet_options(n));
    const std::string user = fleet_user(n);
    if (c->list("", "Work").empty()) c->create("Work");
    for (int i = 0; i < count; ++i)
        c->append(i % 3 ? "INBOX" : "Work",
                  i % 2 ? std::vector<std::string>{"\\Seen"} : std::vector<std::string>{},
                  util::format_imap_datetime(1700000000 + i * 60, 0), message(user, i, run, pad));
    c->logout();
}

using MessageSet =
    std::map<std::pair<std::string, std::uint32_t>, std::string>;  // (mailbox, uid) -> sha256

MessageSet server_messages(int n) {
    MessageSet out;
    auto c = imap::connect_and_login(fleet_options(n));
    for (const auto& entry : c->list("", "*")) {
        c->select(entry.name, true);
        UidSet all;
        all.add_range(Uid(1), Uid(0xFFFFFFFFu));
        c->uid_fetch(all, imap::FetchItems().uid().body_peek(), [&](imap::FetchData& d) {
            out[{entry.name, d.uid->value}] = util::sha256_hex(d.body);
        });
        c->unselect();
    }
    c->logout();
    return out;
}

MessageSet catalog_messages(store::Catalog& catalog, store::Id account) {
    MessageSet out;
    for (const auto& box : catalog.mailboxes(account))
        for (const auto& m : catalog.all_messages(box.id))
            if (!m.expunged_at) out[{box.name, m.uid}] = m.sha256;
    return out;
}

struct StoredFiles {
    std::size_t files = 0, tmp = 0;
    std::multiset<std::string> sha256;
};

StoredFiles stored_files(const fs::path& account_root) {
    StoredFiles s;
    for (const auto& e : fs::recursive_directory_iterator(account_root)) {
        if (!e.is_regular_file()) continue;
        const auto leaf = e.path().parent_path().filename().string();
        if (leaf == "tmp") ++s.tmp;
        if (leaf != "cur" && leaf != "new") continue;
        ++s.files;
        s.sha256.insert(util::sha256_file_hex(e.path().string()));
    }
    return s;
}

// The pid in a lease owner "ID@HOST:PID:RANDOM".
pid_t owner_pid(const std::string& owner) {
    const auto end = owner.rfind(':');
    const auto start = owner.rfind(':', end - 1);
    return static_cast<pid_t>(std::stol(owner.substr(start + 1, end - start - 1)));
}

struct Fleet {
    test::PostgresBackend& pg;
    std::string table() const {
        return pg.admin().quote_identifier(pg.schema()) + ".fleet_accounts";
    }
    std::optional<std::string> holder(const std::string& account) {
        auto r = pg.admin().query("SELECT lease_owner FROM " + table() + " WHERE name = $1::text",
                                  account);
        if (r.rows() == 0 || r.is_null(0, 0)) return std::nullopt;
        return r.text(0, 0);
    }
    std::int64_t saved(const std::string& account) {
        const auto s = pg.admin().quote_identifier(pg.schema());
        return pg.admin()
            .query("SELECT count(*) FROM " + s + ".message m JOIN " + s +
                       ".mailbox b ON b.id = m.mailbox_id JOIN " + s +
                       ".account a ON a.id = b.account_id WHERE a.name = $1::text",
                   account)
            .int64(0, 0);
    }
    // Accounts that ran ok and are not leased.
    std::int64_t settled() {
        return pg.admin()
            .exec("SELECT count(*) FROM " + table() +
                  " WHERE last_status = 'ok' AND lease_owner IS NULL")
            .int64(0, 0);
    }
};

void write_file(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    out.close();
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

// DIR/config.toml: the store in DIR/store, the catalog in the test schema,
// and the template every fleet account of the tests names ("dovecot").
void write_config(const fs::path& dir, test::PostgresBackend& pg) {
    write_file(dir / "config.toml",
               "[store]\npath = \"" + (dir / "store").string() + "\"\ncatalog = \"" +
                   pg.conninfo() + "\"\ncatalog_schema = \"" + pg.schema() +
                   "\"\n\n[[account]]\nname = \"dovecot\"\nhost = \"127.0.0.1\"\nport = " +
                   env("IMAPKEEP_TEST_IMAP_PORT").value_or("143") +
                   "\ntls = \"none\"\nallow_plaintext_auth = true\nuser = \"unused\"\n"
                   "password_command = \"printenv IMAPKEEP_TEST_MASTER_PASSWORD\"\n"
                   // Slow enough that a kill or a signal lands inside the big account,
                   // one mailbox at a time: with two connections sharing the rate, the
                   // big account's two mailboxes were committed within milliseconds of
                   // each other, and a kill after the first commit could miss the window.
                   "max_messages_per_second = 80\nconnections = 1\nretries = 0\n");
}

}  // namespace

TEST_CASE(
    "three workers back up the fleet; one killed mid-account, its account is finished by another",
    "[integration][fleet]") {
    if (!have_fleet_env()) return;
    auto pg = test::make_postgres_backend();
    if (!pg) return;
    const int accounts = fleet_user_count();
    REQUIRE(accounts >= 3);
    std::random_device random;
    const std::string run = "r" + std::to_string(random());
    const std::string big = fleet_user(1);
    seed(1, kBigMessages, 200, run);
    for (int n = 2; n <= accounts; ++n) seed(n, 2 + n % 4, 5, run);
    // What the big account holds (earlier runs' messages too).
    const auto big_total = static_cast<std::int64_t>(server_messages(1).size());

    TempDir dir;
    const fs::path store = dir.path / "store";
    write_config(dir.path, *pg);
    std::string csv = "name,user,master_user,template\n";
    for (int n = 1; n <= accounts; ++n)
        csv += fleet_user(n) + "," + fleet_user(n) + "," +
               env("IMAPKEEP_TEST_MASTER_USER").value_or("") + ",dovecot\n";
    write_file(dir.path / "accounts.csv", csv);
    const std::string config = (dir.path / "config.toml").string();
    auto imported = run_imapkeep_binary(
        {"--config", config, "accounts", "import", (dir.path / "accounts.csv").string()}, dir.path);
    INFO(imported.err);
    REQUIRE(imported.code == 0);

    const std::string binary = std::string(IMAPKEEP_BINARY_DIR) + "/imapkeep";
    std::vector<pid_t> workers;
    for (int w = 0; w < 3; ++w) {
        const std::string id = "w" + std::to_string(w);
        workers.push_back(spawn({binary, "--config", config, "worker", "--loop", "--poll", "0.2",
                                 "--lease", "2", "--id", id, "-q"},
                                dir.path / (id + ".out"), dir.path / (id + ".err")));
    }
    const auto started = std::chrono::steady_clock::now();

    // The kill: once the big account's holder has saved some of it.
    Fleet fleet{*pg};
    std::optional<pid_t> victim;
    std::int64_t saved_at_kill = 0;
    while (!victim && std::chrono::steady_clock::now() - started < 60s) {
        auto owner = fleet.holder(big);
        if (owner && (saved_at_kill = fleet.saved(big)) > 0) {
            victim = owner_pid(*owner);
            REQUIRE(std::find(workers.begin(), workers.end(), *victim) != workers.end());
            ::kill(*victim, SIGKILL);
        } else {
            std::this_thread::sleep_for(5ms);
        }
    }
    REQUIRE(victim);
    UNSCOPED_INFO("killed worker " << *victim << " with " << saved_at_kill << " of " << big_total
                                   << " messages saved");
    CHECK(saved_at_kill < big_total);  // mid-account
    auto killed = wait_child(*victim, started, std::nullopt);
    CHECK(killed.code == 128 + SIGKILL);

    // The others finish everything, the big account once its lease expired.
    while (fleet.settled() < accounts && std::chrono::steady_clock::now() - started < 240s)
        std::this_thread::sleep_for(100ms);
    CHECK(fleet.settled() == accounts);
    for (pid_t pid : workers) {
        if (pid == *victim) continue;
        ::kill(pid, SIGTERM);
        auto stopped = wait_child(pid, started, std::nullopt);
        CHECK(stopped.code == 143);
    }
    for (int w = 0; w < 3; ++w)
        UNSCOPED_INFO(
            "w" << w << " stderr: " << slurp_file(dir.path / ("w" + std::to_string(w) + ".err")));

    auto& admin = pg->admin();
    auto big_row = admin.query(
        "SELECT lease_generation, last_exit_code FROM " + fleet.table() + " WHERE name = $1::text",
        big);
    CHECK(big_row.int64(0, 0) >= 2);  // claimed again after the kill
    CHECK(big_row.int64(0, 1) == 0);
    // The killed worker's run record is not left "running" forever: the
    // account's next claim closed it as interrupted (fleet/lease.hpp).
    const auto runs = admin.exec(
        "SELECT count(*) FILTER (WHERE finished_at IS NULL),"
        " count(*) FILTER (WHERE status = 'interrupted' AND finished_at IS NOT NULL) FROM " +
        admin.quote_identifier(pg->schema()) + ".run");
    CHECK(runs.int64(0, 0) == 0);
    CHECK(runs.int64(0, 1) == 1);

    store::PostgresCatalogOptions options;
    options.conninfo = pg->conninfo();
    options.schema = pg->schema();
    auto catalog = store::open_postgres_catalog(options);
    auto messages = store::open_maildir_store(store.string());
    std::size_t total = 0;
    for (int n = 1; n <= accounts; ++n) {
        const std::string user = fleet_user(n);
        INFO("account " << user);
        auto id = catalog->find_account(user);
        REQUIRE(id);
        const auto on_server = server_messages(n);
        const auto in_catalog = catalog_messages(*catalog, *id);
        CHECK(in_catalog == on_server);
        CHECK(store::verify_files(*catalog, *messages, *id).empty());
        const auto files = stored_files(store / "mail" / user);
        CHECK(files.files == in_catalog.size());  // no message stored twice
        CHECK(std::set<std::string>(files.sha256.begin(), files.sha256.end()).size() ==
              files.files);
        CHECK(files.tmp == 0);
        total += files.files;
    }
    CHECK(total >= static_cast<std::size_t>(kBigMessages + 2 * (accounts - 1)));
}

TEST_CASE(
    "SIGTERM stops a worker mid-account, releases the lease at once, and the next worker finishes "
    "it",
    "[integration][fleet]") {
    if (!have_fleet_env()) return;
    auto pg = test::make_postgres_backend();
    if (!pg) return;
    std::random_device random;
    const std::string run = "t" + std::to_string(random());
    const int n = 2;
    const std::string user = fleet_user(n);
    // Several paced chunks (max_messages_per_second = 80): the SIGTERM, sent
    // once the first is saved, lands mid-account. With 160 both mailboxes
    // could be saved before the worker's next step saw it (CI: 164 of 164).
    seed(n, 600, 100, run);
    TempDir dir;
    write_config(dir.path, *pg);
    const std::string config = (dir.path / "config.toml").string();
    auto added = run_imapkeep_binary(
        {"--config", config, "accounts", "add", user, "--user", user, "--master-user",
         env("IMAPKEEP_TEST_MASTER_USER").value_or(""), "--template", "dovecot"},
        dir.path);
    INFO(added.err);
    REQUIRE(added.code == 0);

    const std::string binary = std::string(IMAPKEEP_BINARY_DIR) + "/imapkeep";
    const auto started = std::chrono::steady_clock::now();
    // A long lease: only the release can hand the account over in time.
    pid_t worker = spawn({binary, "--config", config, "worker", "--once", "--lease", "600"},
                         dir.path / "a.out", dir.path / "a.err");
    Fleet fleet{*pg};
    bool signalled = false;
    while (!signalled && std::chrono::steady_clock::now() - started < 60s) {
        if (fleet.holder(user) && fleet.saved(user) > 0) {
            ::kill(worker, SIGTERM);
            signalled = true;
        } else {
            std::this_thread::sleep_for(5ms);
        }
    }
    REQUIRE(signalled);
    auto stopped = wait_child(worker, started, std::nullopt);
    INFO(slurp_file(dir.path / "a.err"));
    CHECK(stopped.code == 143);
    auto& admin = pg->admin();
    auto row = admin.query(
        "SELECT lease_owner IS NULL, last_status, next_due_ms <= "
        "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT FROM " +
            fleet.table() + " WHERE name = $1::text",
        user);
    CHECK(row.boolean(0, 0));
    CHECK(row.text(0, 1) == "interrupted");
    CHECK(row.boolean(0, 2));  // due at once
    const auto saved_then = fleet.saved(user);
    const auto on_server = server_messages(n);
    CHECK(saved_then < static_cast<std::int64_t>(on_server.size()));

    auto next = run_imapkeep_binary({"--config", config, "worker", "--once", "-q"}, dir.path);
    INFO(next.err);
    CHECK(next.code == 0);
    CHECK(fleet.settled() == 1);
    store::PostgresCatalogOptions options;
    options.conninfo = pg->conninfo();
    options.schema = pg->schema();
    auto catalog = store::open_postgres_catalog(options);
    auto id = catalog->find_account(user);
    REQUIRE(id);
    CHECK(catalog_messages(*catalog, *id) == on_server);
    const auto files = stored_files(dir.path / "store" / "mail" / user);
    CHECK(files.files == on_server.size());
    CHECK(files.tmp == 0);
}

TEST_CASE(
    "a worker whose lease was taken over stops that account and leaves the new holder's lease "
    "alone",
    "[integration][fleet]") {
    if (!have_fleet_env()) return;
    auto pg = test::make_postgres_backend();
    if (!pg) return;
    std::random_device random;
    const int n = 3;
    const std::string user = fleet_user(n);
    seed(n, 160, 100, "l" + std::to_string(random()));
    TempDir dir;
    write_config(dir.path, *pg);
    const std::string config = (dir.path / "config.toml").string();
    REQUIRE(run_imapkeep_binary(
                {"--config", config, "accounts", "add", user, "--user", user, "--master-user",
                 env("IMAPKEEP_TEST_MASTER_USER").value_or(""), "--template", "dovecot"},
                dir.path)
                .code == 0);

    const auto started = std::chrono::steady_clock::now();
    pid_t worker = spawn({std::string(IMAPKEEP_BINARY_DIR) + "/imapkeep", "--config", config,
                          "worker", "--once", "--lease", "1.5"},
                         dir.path / "a.out", dir.path / "a.err");
    Fleet fleet{*pg};
    bool stolen = false;
    while (!stolen && std::chrono::steady_clock::now() - started < 60s) {
        if (fleet.holder(user) && fleet.saved(user) > 0) {
            // What another worker's claim after an expiry does to the row,
            // with the thief's own lease (a minute) running: the old one's end
            // must not free the row again while the worker notices its loss.
            pg->admin().query(
                "UPDATE " + fleet.table() +
                    " SET lease_owner = 'thief', lease_generation = lease_generation + 1,"
                    " lease_until_ms = (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT + 60000"
                    " WHERE name = $1::text",
                user);
            stolen = true;
        } else {
            std::this_thread::sleep_for(5ms);
        }
    }
    REQUIRE(stolen);
    auto result = wait_child(worker, started, std::nullopt);
    const std::string err = slurp_file(dir.path / "a.err");
    INFO(err);
    CHECK(result.code == 75);
    CHECK_THAT(err, Catch::Contains(user + ": lost"));
    CHECK(fleet.holder(user) == std::optional<std::string>("thief"));
    // Its release changed nothing: the row is the new holder's.
    auto row = pg->admin().query(
        "SELECT last_status, next_due_ms FROM " + fleet.table() + " WHERE name = $1::text", user);
    CHECK(row.text(0, 0) == "");
    CHECK(row.int64(0, 1) == 0);
}

namespace {

// Every row of the catalog's tables, as one text: what a write changes.
std::string catalog_digest(test::PostgresBackend& pg) {
    const auto s = pg.admin().quote_identifier(pg.schema());
    std::string digest;
    for (const char* table :
         {"account", "mailbox", "message", "flag_history", "uid_history", "run", "download_usage"})
        digest += std::string(table) + "=" +
                  pg.admin()
                      .exec(
                          "SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), ''))"
                          " FROM " +
                          s + "." + table + " x")
                      .text(0, 0) +
                  " ";
    return digest;
}

}  // namespace

TEST_CASE(
    "a worker stalled past its lease (SIGSTOP) commits nothing once another worker took the "
    "account over, and exits 75",
    "[integration][fleet]") {
    if (!have_fleet_env()) return;
    auto pg = test::make_postgres_backend();
    if (!pg) return;
    std::random_device random;
    const int n = 4;
    const std::string user = fleet_user(n);
    seed(n, 300, 100, "s" + std::to_string(random()));
    TempDir dir;
    write_config(dir.path, *pg);
    const std::string config = (dir.path / "config.toml").string();
    REQUIRE(run_imapkeep_binary(
                {"--config", config, "accounts", "add", user, "--user", user, "--master-user",
                 env("IMAPKEEP_TEST_MASTER_USER").value_or(""), "--template", "dovecot"},
                dir.path)
                .code == 0);

    const auto started = std::chrono::steady_clock::now();
    pid_t stale = spawn({std::string(IMAPKEEP_BINARY_DIR) + "/imapkeep", "--config", config,
                         "worker", "--once", "--lease", "1.5"},
                        dir.path / "a.out", dir.path / "a.err");
    Fleet fleet{*pg};
    bool stopped = false;
    while (!stopped && std::chrono::steady_clock::now() - started < 60s) {
        if (fleet.holder(user) && fleet.saved(user) > 0) {
            ::kill(stale, SIGSTOP);
            stopped = true;
        } else {
            std::this_thread::sleep_for(5ms);
        }
    }
    REQUIRE(stopped);
    std::this_thread::sleep_for(2500ms);  // the lease (1.5 s) expires

    // Another worker takes the account over and finishes it.
    auto next = run_imapkeep_binary({"--config", config, "worker", "--once", "-q"}, dir.path);
    INFO("next worker: " << next.err);
    CHECK(next.code == 0);
    CHECK(fleet.settled() == 1);
    const auto finished = catalog_digest(*pg);

    // The stale one wakes up: it must learn it lost the account, and write nothing.
    ::kill(stale, SIGCONT);
    auto result = wait_child(stale, started, std::nullopt);
    const std::string err = slurp_file(dir.path / "a.err");
    INFO("stale worker: " << err);
    CHECK(result.code == 75);
    CHECK_THAT(err, Catch::Contains(user + ": lost"));
    CHECK(catalog_digest(*pg) == finished);

    const auto on_server = server_messages(n);
    CHECK(fleet.saved(user) == static_cast<std::int64_t>(on_server.size()));  // no duplicate rows
    store::PostgresCatalogOptions options;
    options.conninfo = pg->conninfo();
    options.schema = pg->schema();
    auto catalog = store::open_postgres_catalog(options);
    auto id = catalog->find_account(user);
    REQUIRE(id);
    CHECK(catalog_messages(*catalog, *id) == on_server);
    auto messages = store::open_maildir_store((dir.path / "store").string());
    CHECK(store::verify_files(*catalog, *messages, *id).empty());
    // Every file is named by exactly one row: the stale worker's renames of
    // its refused chunk are gone, not left as duplicates for a mail reader.
    const auto files = stored_files(dir.path / "store" / "mail" / user);
    CHECK(files.files == on_server.size());
    CHECK(std::set<std::string>(files.sha256.begin(), files.sha256.end()).size() == files.files);
    auto row = pg->admin().query(
        "SELECT lease_owner IS NULL, last_status FROM " + fleet.table() + " WHERE name = $1::text",
        user);
    CHECK(row.boolean(0, 0));
    CHECK(row.text(0, 1) == "ok");  // the new holder's release; the stale one's changed nothing
}
