// The catalog in PostgreSQL ([store] catalog, issue 13): the imapkeep binary
// backs up a real Dovecot with its catalog in the test PostgreSQL, on parallel
// workers, and status, verify and a second run read the same catalog; no
// catalog.sqlite appears, and two stores in one database stay apart.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <imapkeep/store/postgres_catalog.hpp>
#include <random>

#include "integration/backup_support.hpp"
#include "integration/imapkeep_process.hpp"
#include "store/postgres/pg_connection.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

std::string fresh_schema() {
    std::random_device random;
    return "ik_cli_" + std::to_string(::getpid()) + "_" + std::to_string(random() % 100000);
}

std::string write_config(const std::filesystem::path& dir, const std::string& schema,
                         const std::vector<std::string>& mailboxes) {
    std::string list;
    for (const auto& m : mailboxes) list += (list.empty() ? "\"" : ", \"") + m + "\"";
    const auto path = dir / "config.toml";
    std::ofstream(path) << "[store]\npath = \"" << (dir / "store").string() << "\"\n"
                        << "catalog = \"" << env("IMAPKEEP_TEST_PG_URL").value_or("") << "\"\n"
                        << "catalog_schema = \"" << schema << "\"\n\n"
                        << "[[account]]\nname = \"pg\"\nhost = \"127.0.0.1\"\nport = "
                        << env("IMAPKEEP_TEST_IMAP_PORT").value_or("143") << "\n"
                        << "tls = \"none\"\nallow_plaintext_auth = true\n"
                        << "user = \"" << test_user(1) << "\"\npassword = \"" << test_password(1)
                        << "\"\nconnections = 2\nmailboxes = [" << list << "]\n";
    ::chmod(path.c_str(), 0600);
    ::chmod(dir.c_str(), 0700);
    return path.string();
}

// Messages the catalog holds live for account "pg", by mailbox name.
std::map<std::string, std::size_t> cataloged(const std::string& schema) {
    store::PostgresCatalogOptions options;
    options.conninfo = env("IMAPKEEP_TEST_PG_URL").value_or("");
    options.schema = schema;
    auto catalog = store::open_postgres_catalog(options);
    std::map<std::string, std::size_t> out;
    auto account = catalog->find_account("pg");
    if (!account) return out;
    for (const auto& mailbox : catalog->mailboxes(*account, false))
        out[mailbox.name] = catalog->messages(mailbox.id).size();
    return out;
}

// Every row of every table of `schema`, as text (empty when there is no such
// schema): what a dry run must leave as it found.
std::map<std::string, std::string> all_rows(const std::string& schema) {
    store::PgConnection pg(env("IMAPKEEP_TEST_PG_URL").value_or(""));
    std::map<std::string, std::string> out;
    auto tables = pg.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema);
    for (int i = 0; i < tables.rows(); ++i) {
        const std::string table =
            pg.quote_identifier(schema) + "." + pg.quote_identifier(tables.text(i, 0));
        auto rows =
            pg.exec("SELECT COALESCE(string_agg(t::text, E'\\n' ORDER BY t::text), '') FROM " +
                    table + " t");
        out[table] = rows.text(0, 0);
    }
    return out;
}

bool schema_exists(const std::string& schema) {
    store::PgConnection pg(env("IMAPKEEP_TEST_PG_URL").value_or(""));
    return pg.query("SELECT to_regnamespace($1::text) IS NOT NULL", schema).boolean(0, 0);
}

}  // namespace

TEST_CASE("a dry run on a PostgreSQL catalog says what a backup would do and changes nothing there",
          "[integration][postgres]") {
    if (!have_dovecot_env() || !test_env_has({"IMAPKEEP_TEST_PG_URL"}, "the test PostgreSQL"))
        return;
    auto admin = imap::connect_and_login(dovecot_options());
    const std::string a = unique_name("ikpgd");
    admin->create(a);
    admin->append(a, {}, std::nullopt, "Subject: d0\r\n\r\nbody\r\n");
    TempDir dir;
    const std::string schema = fresh_schema();
    const auto config = write_config(dir.path, schema, {a});

    // Before any backup: not even the schema is made.
    auto before_any = run_imapkeep_binary({"backup", "--dry-run", "--config", config}, dir.path);
    INFO(before_any.out << before_any.err);
    CHECK(before_any.code == 0);
    CHECK(before_any.out.find("1 new") != std::string::npos);
    CHECK_FALSE(schema_exists(schema));

    REQUIRE(run_imapkeep_binary({"backup", "--config", config}, dir.path).code == 0);
    admin->append(a, {}, std::nullopt, "Subject: d1\r\n\r\nbody\r\n");
    const auto rows = all_rows(schema);
    REQUIRE_FALSE(rows.empty());
    auto dry = run_imapkeep_binary({"backup", "--dry-run", "--config", config}, dir.path);
    INFO(dry.out << dry.err);
    CHECK(dry.code == 0);
    CHECK(dry.out.find("1 new") != std::string::npos);
    CHECK(all_rows(schema) == rows);

    auto real = run_imapkeep_binary({"backup", "--config", config}, dir.path);
    CHECK(real.code == 0);
    CHECK(real.out.find("1 new") != std::string::npos);
    CHECK(cataloged(schema)[a] == 2);

    store::PgConnection pg(env("IMAPKEEP_TEST_PG_URL").value_or(""));
    pg.exec("DROP SCHEMA IF EXISTS " + pg.quote_identifier(schema) + " CASCADE");
    admin->delete_mailbox(a);
}

TEST_CASE("a backup whose catalog is in PostgreSQL", "[integration][postgres]") {
    if (!have_dovecot_env() || !test_env_has({"IMAPKEEP_TEST_PG_URL"}, "the test PostgreSQL"))
        return;
    auto admin = imap::connect_and_login(dovecot_options());
    const std::string a = unique_name("ikpga"), b = unique_name("ikpgb");
    admin->create(a);
    admin->create(b);
    for (int i = 0; i < 3; ++i)
        admin->append(a, {}, std::nullopt, "Subject: a" + std::to_string(i) + "\r\n\r\nbody\r\n");
    admin->append(b, {"\\Seen"}, std::nullopt, "Subject: b\r\n\r\nbody\r\n");

    TempDir dir, other;
    const std::string schema = fresh_schema(), other_schema = fresh_schema() + "_2";
    const auto config = write_config(dir.path, schema, {a, b});

    auto first = run_imapkeep_binary({"backup", "--config", config}, dir.path);
    INFO(first.out << first.err);
    CHECK(first.code == 0);
    CHECK(first.out.find("4 new") != std::string::npos);
    CHECK(cataloged(schema) == std::map<std::string, std::size_t>{{a, 3}, {b, 1}});
    CHECK_FALSE(std::filesystem::exists(dir.path / "store" / "catalog.sqlite"));

    admin->append(a, {}, std::nullopt, "Subject: a3\r\n\r\nbody\r\n");
    auto second = run_imapkeep_binary({"backup", "--config", config}, dir.path);
    INFO(second.out << second.err);
    CHECK(second.code == 0);
    CHECK(second.out.find("1 new") != std::string::npos);
    CHECK(cataloged(schema)[a] == 4);

    auto status = run_imapkeep_binary({"status", "--config", config}, dir.path);
    CHECK(status.code == 0);
    CHECK(status.out.find("pg: 5 messages") != std::string::npos);
    auto verify = run_imapkeep_binary({"verify", "--config", config}, dir.path);
    INFO(verify.err);
    CHECK(verify.code == 0);
    CHECK(verify.out.find("all match the catalog") != std::string::npos);

    const auto archive = dir.path / "export";
    auto exported = run_imapkeep_binary({"export", "--config", config, "--account", "pg",
                                         "--format", "maildir", "--output", archive.string()},
                                        dir.path);
    INFO(exported.err);
    CHECK(exported.code == 0);
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(archive))
        if (entry.is_regular_file() && entry.path().parent_path().filename() == "cur") ++files;
    CHECK(files == 5);

    // A second store in the same database, under another schema: its own catalog.
    const auto config2 = write_config(other.path, other_schema, {b});
    auto separate = run_imapkeep_binary({"backup", "--config", config2}, other.path);
    CHECK(separate.code == 0);
    CHECK(cataloged(other_schema) == std::map<std::string, std::size_t>{{b, 1}});
    CHECK(cataloged(schema)[a] == 4);

    for (const auto& s : {schema, other_schema}) {
        store::PgConnection pg(env("IMAPKEEP_TEST_PG_URL").value_or(""));
        pg.exec("DROP SCHEMA IF EXISTS " + pg.quote_identifier(s) + " CASCADE");
    }
    admin->delete_mailbox(a);
    admin->delete_mailbox(b);
}
