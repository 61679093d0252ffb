// [store] backend = "postgres+s3" (issue 13) through the imapkeep binary: a
// real Dovecot account backed up into the test PostgreSQL (catalog) and the
// test Ceph RGW (message bytes), changed on the server, backed up again, then
// restored into another account, exported to mbox and verified against the
// server: everything equal to what the server holds, each distinct message
// one object in the bucket, and no message file under store.path.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <imapkeep/archive/mboxrd.hpp>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/s3/s3_client.hpp>
#include <imapkeep/store/flags.hpp>
#include <imapkeep/util/sha256.hpp>
#include <random>
#include <set>

#include "integration/backup_support.hpp"
#include "integration/imapkeep_process.hpp"
#include "store/postgres/pg_connection.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

// The test Ceph RGW (scripts/test-env/ceph.sh). Not s3/rgw_support.hpp: its
// env() clashes with backup_support.hpp's.
bool have_rgw_env() {
    return test_env_has({"IMAPKEEP_TEST_S3_ENDPOINT", "IMAPKEEP_TEST_S3_ACCESS_KEY",
                         "IMAPKEEP_TEST_S3_SECRET_KEY", "IMAPKEEP_TEST_S3_BUCKET"},
                        "the test Ceph RGW");
}

s3::S3Config rgw_config() {
    s3::S3Config config;
    config.endpoint = env("IMAPKEEP_TEST_S3_ENDPOINT").value_or("");
    config.credentials = {env("IMAPKEEP_TEST_S3_ACCESS_KEY").value_or(""),
                          env("IMAPKEEP_TEST_S3_SECRET_KEY").value_or("")};
    return config;
}

std::string rgw_bucket() { return env("IMAPKEEP_TEST_S3_BUCKET").value_or(""); }

struct Msg {
    std::string body;
    std::vector<std::string> flags;
    auto key() const { return std::tie(body, flags); }
    bool operator<(const Msg& o) const { return key() < o.key(); }
    bool operator==(const Msg& o) const { return key() == o.key(); }
};

std::vector<Msg> fetch_all(imap::Client& c, const std::string& mailbox) {
    std::vector<Msg> out;
    auto sel = c.select(mailbox, true);
    if (sel.exists > 0) {
        UidSet all;
        all.add_range(Uid(1), Uid(0xFFFFFFFFu));
        c.uid_fetch(all, imap::FetchItems().uid().flags().body_peek(), [&](imap::FetchData& fd) {
            out.push_back(
                {fd.body, store::normalize_flags(fd.flags.value_or(std::vector<std::string>{}))});
        });
    }
    c.unselect();
    std::sort(out.begin(), out.end());
    return out;
}

std::string fresh_schema() {
    std::random_device random;
    return "ik_s3_" + std::to_string(::getpid()) + "_" + std::to_string(random() % 100000);
}

struct Setup {
    std::string schema = fresh_schema();
    std::string prefix = "test/" + unique_name("cli-postgres-s3-") + "/";
};

// Account "src" (user 1) backs up mailboxes a and b; "dst" (user 2) `dst`.
std::string write_config(const std::filesystem::path& dir, const Setup& s, const std::string& a,
                         const std::string& b, const std::string& dst = "\"INBOX\"") {
    const auto secret = dir / "s3.secret";
    std::ofstream(secret) << env("IMAPKEEP_TEST_S3_SECRET_KEY").value_or("") << "\n";
    ::chmod(secret.c_str(), 0600);
    const auto path = dir / "config.toml";
    const std::string port = env("IMAPKEEP_TEST_IMAP_PORT").value_or("143");
    auto account = [&](const std::string& name, int user, const std::string& mailboxes) {
        return "[[account]]\nname = \"" + name + "\"\nhost = \"127.0.0.1\"\nport = " + port +
               "\ntls = \"none\"\nallow_plaintext_auth = true\nuser = \"" + test_user(user) +
               "\"\npassword = \"" + test_password(user) + "\"\nmailboxes = [" + mailboxes +
               "]\n\n";
    };
    std::ofstream(path) << "[store]\npath = \"" << (dir / "store").string() << "\"\n"
                        << "backend = \"postgres+s3\"\n"
                        << "catalog = \"" << env("IMAPKEEP_TEST_PG_URL").value_or("") << "\"\n"
                        << "catalog_schema = \"" << s.schema << "\"\n\n"
                        << "[store.s3]\nendpoint = \""
                        << env("IMAPKEEP_TEST_S3_ENDPOINT").value_or("") << "\"\nbucket = \""
                        << rgw_bucket() << "\"\nprefix = \"" << s.prefix << "\"\naccess_key = \""
                        << env("IMAPKEEP_TEST_S3_ACCESS_KEY").value_or("")
                        << "\"\nsecret_key_file = \"" << secret.string() << "\"\n\n"
                        << account("src", 1, "\"" + a + "\", \"" + b + "\"")
                        << account("dst", 2, dst);
    ::chmod(path.c_str(), 0600);
    ::chmod(dir.c_str(), 0700);
    return path.string();
}

// Every key under `prefix`: the messages' objects and the prefix's owner.
std::set<std::string> all_keys(const std::string& prefix) {
    s3::S3Client client(rgw_config());
    std::set<std::string> keys;
    client.for_each_object(rgw_bucket(), prefix,
                           [&](const s3::ListedObject& o) { keys.insert(o.key); });
    return keys;
}

// The messages' objects.
std::set<std::string> object_keys(const std::string& prefix) { return all_keys(prefix + "blobs/"); }

bool have_postgres_s3_env() {
    return have_dovecot_env() && test_env_has({"IMAPKEEP_TEST_PG_URL"}, "the test PostgreSQL") &&
           have_rgw_env();
}

// Two mailboxes of one message each on the test Dovecot (user 1), deleted
// when it goes.
struct TwoMailboxes {
    std::unique_ptr<imap::Client> admin = imap::connect_and_login(dovecot_options());
    std::string a, b;

    TwoMailboxes(const std::string& name, const std::string& text)
        : a(unique_name(name + "a")), b(unique_name(name + "b")) {
        admin->create(a);
        admin->create(b);
        admin->append(a, {}, std::nullopt, "Subject: " + name + " 1\r\n\r\n" + text + "\r\n");
        admin->append(b, {}, std::nullopt, "Subject: " + name + " 2\r\n\r\n" + text + " too\r\n");
    }
    ~TwoMailboxes() {
        try {
            for (const auto& mailbox : {a, b}) admin->delete_mailbox(mailbox);
        } catch (const std::exception& e) {
            WARN("could not delete the test mailboxes: " << e.what());
        }
    }
};

// The catalogs' schemas dropped, and every key under `prefix` deleted.
void drop_test_stores(const std::vector<std::string>& schemas, const std::string& prefix) {
    store::PgConnection pg(env("IMAPKEEP_TEST_PG_URL").value_or(""));
    for (const auto& schema : schemas)
        pg.exec("DROP SCHEMA IF EXISTS " + pg.quote_identifier(schema) + " CASCADE");
    s3::S3Client client(rgw_config());
    for (const auto& key : all_keys(prefix)) client.delete_object(rgw_bucket(), key);
}

// Regular files under `dir` other than the lock.
std::size_t files_under(const std::filesystem::path& dir) {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
        if (e.is_regular_file() && e.path().filename() != ".lock") ++n;
    return n;
}

// The messages of an mboxrd file, as the encoder writes each body.
std::string mbox_form(const std::string& body) {
    archive::MboxrdEncoder encoder;
    std::string out;
    encoder.feed(body, out);
    encoder.finish(out);
    return out;
}

}  // namespace

TEST_CASE("postgres+s3: backup, incremental, restore, export and verify equal the server",
          "[integration][postgres][s3]") {
    if (!have_postgres_s3_env()) return;
    s3::S3Client(rgw_config()).create_bucket(rgw_bucket());
    auto admin = imap::connect_and_login(dovecot_options());
    const std::string a = unique_name("iks3a"), b = unique_name("iks3b");
    admin->create(a);
    admin->create(b);
    const std::string shared = "Subject: in both\r\n\r\nthe same bytes in two mailboxes\r\n";
    admin->append(a, {}, std::nullopt, shared);
    admin->append(b, {"\\Seen"}, std::nullopt, shared);
    admin->append(a, {"\\Flagged"}, std::nullopt, "Subject: a1\r\n\r\nbare LF\nbody\r\n");
    admin->append(a, {}, std::nullopt, "Subject: a2\r\n\r\nFrom the start\r\n>From quoted\r\n");
    std::string big = "Subject: big\r\n\r\n";
    while (big.size() < 3 * 1024 * 1024) big += "a line of the big message, to pass 1 MiB\r\n";
    admin->append(b, {}, std::nullopt, big);

    TempDir dir;
    const Setup setup;
    const auto config = write_config(dir.path, setup, a, b);

    auto first = run_imapkeep_binary({"backup", "--config", config, "--account", "src"}, dir.path);
    INFO(first.out << first.err);
    REQUIRE(first.code == 0);
    CHECK(first.out.find("5 new") != std::string::npos);
    // Five rows, four distinct messages: four objects.
    CHECK(object_keys(setup.prefix).size() == 4);
    CHECK(files_under(dir.path / "store") == 0);  // no Maildir, no catalog.sqlite, no spool left

    // The server moves on: one new, a flag changed, one expunged.
    admin->append(a, {}, std::nullopt, "Subject: a3\r\n\r\nnew after the first run\r\n");
    admin->select(a, false);
    REQUIRE_NOTHROW(admin->uid_store(UidSet::parse("1"), imap::StoreFlags::add({"\\Answered"})));
    REQUIRE_NOTHROW(admin->uid_store(UidSet::parse("2"), imap::StoreFlags::add({"\\Deleted"})));
    REQUIRE(admin->run("EXPUNGE", {}).ok());
    admin->close();
    auto second = run_imapkeep_binary({"backup", "--config", config, "--account", "src"}, dir.path);
    INFO(second.out << second.err);
    REQUIRE(second.code == 0);
    CHECK(second.out.find("1 new") != std::string::npos);
    CHECK(object_keys(setup.prefix).size() == 5);  // the expunged one waits for gc

    auto verify = run_imapkeep_binary(
        {"verify", "--config", config, "--account", "src", "--server"}, dir.path);
    INFO(verify.out << verify.err);
    CHECK(verify.code == 0);

    const std::string restored = unique_name("iks3r");
    auto restore = run_imapkeep_binary({"restore", "--config", config, "--account", "src", "--to",
                                        "dst", "--prefix", restored + "/"},
                                       dir.path);
    INFO(restore.out << restore.err);
    REQUIRE(restore.code == 0);
    auto target = imap::connect_and_login(dovecot_options(2));
    const std::string d = hierarchy_delimiter(*target);
    for (const auto& mailbox : {a, b})
        CHECK(fetch_all(*target, restored + d + mailbox) == fetch_all(*admin, mailbox));

    // Dedup across accounts: backing up the restored copies (the same bytes
    // in another account) adds rows, not objects.
    write_config(dir.path, setup, a, b,
                 "\"" + restored + d + a + "\", \"" + restored + d + b + "\"");
    auto copies = run_imapkeep_binary({"backup", "--config", config, "--account", "dst"}, dir.path);
    INFO(copies.out << copies.err);
    REQUIRE(copies.code == 0);
    CHECK(copies.out.find("5 new") != std::string::npos);
    CHECK(object_keys(setup.prefix).size() == 5);

    const auto mbox_dir = dir.path / "export";
    auto exported = run_imapkeep_binary({"export", "--config", config, "--account", "src",
                                         "--format", "mbox", "--output", mbox_dir.string()},
                                        dir.path);
    INFO(exported.out << exported.err);
    REQUIRE(exported.code == 0);
    std::string mbox_text;
    std::size_t mbox_files = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(mbox_dir))
        if (e.is_regular_file()) {
            ++mbox_files;
            mbox_text += slurp_file(e.path());
        }
    CHECK(mbox_files >= 2);
    std::size_t server_messages = 0;
    for (const auto& mailbox : {a, b})
        for (const auto& m : fetch_all(*admin, mailbox)) {
            ++server_messages;
            INFO(m.body.substr(0, 40));
            CHECK(mbox_text.find(mbox_form(m.body)) != std::string::npos);
        }
    CHECK(server_messages == 5);

    for (const auto& mailbox : {a, b}) {
        admin->delete_mailbox(mailbox);
        target->delete_mailbox(restored + d + mailbox);
    }
    try {
        target->delete_mailbox(restored);
    } catch (const std::exception&) {
    }
    store::PgConnection pg(env("IMAPKEEP_TEST_PG_URL").value_or(""));
    pg.exec("DROP SCHEMA IF EXISTS " + pg.quote_identifier(setup.schema) + " CASCADE");
    s3::S3Client cleanup(rgw_config());
    for (const auto& key : all_keys(setup.prefix)) cleanup.delete_object(rgw_bucket(), key);
}

TEST_CASE("postgres+s3: doctor checks the bucket, and names what is wrong",
          "[integration][postgres][s3]") {
    if (!have_postgres_s3_env()) return;
    s3::S3Client(rgw_config()).create_bucket(rgw_bucket());
    TempDir dir;
    const Setup setup;
    const auto config = write_config(dir.path, setup, "INBOX", "INBOX");
    auto good = run_imapkeep_binary({"doctor", "--config", config, "--account", "src"}, dir.path);
    INFO(good.out << good.err);
    CHECK(good.out.find("OK   store: s3") != std::string::npos);

    auto text = slurp_file(config);
    text.replace(text.find("bucket = \"" + rgw_bucket() + "\""), 11 + rgw_bucket().size(),
                 "bucket = \"imapkeep-no-such-bucket\"");
    std::ofstream(config) << text;
    auto missing =
        run_imapkeep_binary({"doctor", "--config", config, "--account", "src"}, dir.path);
    INFO(missing.out << missing.err);
    CHECK(missing.code == 1);
    CHECK(missing.out.find("FAIL store: s3") != std::string::npos);
    CHECK(missing.out.find("create the bucket") != std::string::npos);
    // The secret key is never printed.
    CHECK((missing.out + missing.err).find(env("IMAPKEEP_TEST_S3_SECRET_KEY").value_or("?")) ==
          std::string::npos);
    store::PgConnection pg(env("IMAPKEEP_TEST_PG_URL").value_or(""));
    pg.exec("DROP SCHEMA IF EXISTS " + pg.quote_identifier(setup.schema) + " CASCADE");
}

TEST_CASE("postgres+s3: gc through the binary deletes an orphan object and keeps the backup",
          "[integration][postgres][s3][gc]") {
    if (!have_postgres_s3_env()) return;
    s3::S3Client client(rgw_config());
    client.create_bucket(rgw_bucket());
    const TwoMailboxes mailboxes("iks3gc", "backed up");
    TempDir dir;
    const Setup setup;
    const auto config = write_config(dir.path, setup, mailboxes.a, mailboxes.b);
    auto backup = run_imapkeep_binary({"backup", "--config", config, "--account", "src"}, dir.path);
    INFO(backup.out << backup.err);
    REQUIRE(backup.code == 0);
    // An object no row names (a run killed between its upload and its commit).
    const std::string orphan = "Subject: orphan\r\n\r\nno row names me\r\n";
    const std::string sha = util::sha256_hex(orphan);
    const std::string orphan_key =
        setup.prefix + "blobs/" + sha.substr(0, 2) + "/" + sha.substr(2, 2) + "/" + sha;
    s3::MemorySource body(orphan);
    client.put_object(rgw_bucket(), orphan_key, body);
    REQUIRE(object_keys(setup.prefix).size() == 3);

    auto young = run_imapkeep_binary({"gc", "--config", config}, dir.path);
    INFO(young.out << young.err);
    REQUIRE(young.code == 0);
    CHECK(young.out.find("gc: 3 objects") != std::string::npos);
    CHECK(young.out.find("2 referenced, 1 unreferenced but younger than 7d, 0 marked now") !=
          std::string::npos);

    auto mark = run_imapkeep_binary({"gc", "--config", config, "--grace", "0"}, dir.path);
    INFO(mark.out << mark.err);
    REQUIRE(mark.code == 0);
    CHECK(mark.err.find("WARNING: a grace of 0") != std::string::npos);
    CHECK(mark.out.find("1 marked now") != std::string::npos);
    CHECK(mark.out.find("0 deleted") != std::string::npos);

    auto dry =
        run_imapkeep_binary({"gc", "--config", config, "--grace", "0", "--dry-run"}, dir.path);
    INFO(dry.out << dry.err);
    REQUIRE(dry.code == 0);
    CHECK(dry.out.find("would delete s3://" + rgw_bucket() + "/" + orphan_key) !=
          std::string::npos);
    CHECK(dry.out.find("1 to delete") != std::string::npos);
    CHECK(object_keys(setup.prefix).size() == 3);

    auto sweep =
        run_imapkeep_binary({"gc", "--config", config, "--grace", "0", "--json"}, dir.path);
    INFO(sweep.out << sweep.err);
    REQUIRE(sweep.code == 0);
    CHECK(sweep.out.find("\"deleted\": 1") != std::string::npos);
    CHECK(object_keys(setup.prefix).size() == 2);
    CHECK_FALSE(client.head_object(rgw_bucket(), orphan_key));

    auto verify = run_imapkeep_binary(
        {"verify", "--config", config, "--account", "src", "--server"}, dir.path);
    INFO(verify.out << verify.err);
    CHECK(verify.code == 0);
    drop_test_stores({setup.schema}, setup.prefix);
}

TEST_CASE("postgres+s3: a second catalog on the same prefix is refused before it writes or collects",
          "[integration][postgres][s3][gc]") {
    // Its gc would delete every object of the first catalog's, as unreferenced.
    if (!have_postgres_s3_env()) return;
    s3::S3Client(rgw_config()).create_bucket(rgw_bucket());
    const TwoMailboxes mailboxes("iks3own", "first catalog");
    TempDir first_dir, second_dir;
    const Setup first;
    Setup second;
    second.prefix = first.prefix;
    const auto first_config = write_config(first_dir.path, first, mailboxes.a, mailboxes.b);
    const auto second_config = write_config(second_dir.path, second, mailboxes.a, mailboxes.b);
    auto backup = run_imapkeep_binary({"backup", "--config", first_config, "--account", "src"},
                                      first_dir.path);
    INFO(backup.out << backup.err);
    REQUIRE(backup.code == 0);
    REQUIRE(object_keys(first.prefix).size() == 2);

    for (const std::vector<std::string>& command :
         {std::vector<std::string>{"backup", "--config", second_config, "--account", "src"},
          std::vector<std::string>{"gc", "--config", second_config, "--grace", "0"}}) {
        auto refused = run_imapkeep_binary(command, second_dir.path);
        INFO(command[0] << ": " << refused.out << refused.err);
        CHECK(refused.code == 2);
        CHECK(refused.err.find("belongs to catalog") != std::string::npos);
        CHECK(refused.err.find("prefix of its own") != std::string::npos);
    }
    CHECK(object_keys(first.prefix).size() == 2);
    auto again = run_imapkeep_binary({"gc", "--config", first_config, "--grace", "0"},
                                     first_dir.path);
    INFO(again.out << again.err);
    CHECK(again.code == 0);
    auto verify = run_imapkeep_binary(
        {"verify", "--config", first_config, "--account", "src", "--server"}, first_dir.path);
    INFO(verify.out << verify.err);
    CHECK(verify.code == 0);
    drop_test_stores({first.schema, second.schema}, first.prefix);
}
