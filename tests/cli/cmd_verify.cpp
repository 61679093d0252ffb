#include "cli_fixture.hpp"

#include "cli/lock.hpp"

#include <imapkeep/store/sqlite_catalog.hpp>
#include <imapkeep/sync/backup.hpp>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include "test_env.hpp"

using cli_test::CliFixture;
using namespace imapkeep;

namespace {

// Two messages in work/INBOX, stored and catalogued; returns their files.
std::vector<std::string> backed_up_store(const CliFixture& f) { return cli_test::backed_up_store(f.store); }

}  // namespace

TEST_CASE("verify finds missing and corrupt files", "[verify]") {
    struct Case {
        const char* what;
        int damage;  // 0 none, 1 delete first, 2 flip a byte in the second, 3 mutt renames the first
        int code;
        const char* err_has;
    };
    const Case cases[] = {
        {"intact", 0, 0, ""},
        {"missing file", 1, 1, "work: missing: "},
        {"corrupt file", 2, 1, "work: corrupt: "},
        // Case 3a: a flag change by a mail reader is no loss; it is named as such.
        {"renamed by a mail reader", 3, 0, ""},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        CliFixture f;
        std::filesystem::create_directories(f.store);
        auto files = backed_up_store(f);
        if (c.damage == 1) std::filesystem::remove(files[0]);
        if (c.damage == 2) {
            std::fstream io(files[1], std::ios::in | std::ios::out | std::ios::binary);
            io.seekp(0);
            io.put('X');
        }
        const std::string renamed = files[0].substr(0, files[0].rfind(":2,")) + ":2,FS";
        if (c.damage == 3) std::filesystem::rename(files[0], renamed);
        auto r = f.run({"verify", "--config", f.config, "--account", "work"});
        INFO(r.err);
        CHECK(r.code == c.code);
        CHECK(r.err.find(c.err_has) != std::string::npos);
        if (c.damage == 0) CHECK(r.out == "work: files: all match the catalog\n");
        if (c.damage == 1) CHECK(r.err.find(files[0]) != std::string::npos);
        if (c.damage == 3) {
            CHECK(r.out.find("work: renamed by a mail reader: " + files[0] + " -> " + renamed) !=
                  std::string::npos);
            CHECK(r.out.find("missing") == std::string::npos);
            CHECK(r.err.empty());
        }

        auto json = f.run({"verify", "--config", f.config, "--json", "--account", "work"});
        auto report = nlohmann::json::parse(json.out);
        CHECK(report["accounts"][0]["files"].size() == (c.damage ? 1u : 0u));
        if (c.damage == 3) {
            CHECK(report["accounts"][0]["files"][0]["problem"] == "renamed");
            CHECK(report["accounts"][0]["files"][0]["actual_file"] ==
                  "mail/work/cur/" + renamed.substr(renamed.rfind('/') + 1));
        }
    }
}

TEST_CASE("verify without a backup, and while a backup holds the lock", "[verify]") {
    CliFixture f;
    auto none = f.run({"verify", "--config", f.config});
    CHECK(none.code == 2);
    CHECK(none.err.find("no backup in " + f.store) != std::string::npos);

    std::filesystem::create_directories(f.store);
    backed_up_store(f);
    cli::StoreLock held(f.store);
    auto busy = f.run({"verify", "--config", f.config});
    CHECK(busy.code == 75);
    CHECK(busy.err.find("another imapkeep run holds the lock") != std::string::npos);
}

// Against the real Dovecot of scripts/test-env/up.sh: a real backup, then
// verify --server agrees with the server; a wrong password is exit 3.
TEST_CASE("backup then verify --server against Dovecot", "[verify][integration]") {
    if (!imapkeep::testing::test_env_has(
            {"IMAPKEEP_TEST_IMAP_PORT", "IMAPKEEP_TEST_IMAPS_PORT", "IMAPKEEP_TEST_USER3", "IMAPKEEP_TEST_PASSWORD3"},
            "the test Dovecot"))
        return;
    const char* port = std::getenv("IMAPKEEP_TEST_IMAPS_PORT");
    CliFixture f;
    const std::string secret_file = f.store + ".pw";
    // user3: a whole-account backup must not race other tests' mailboxes in user1.
    const char* user = std::getenv("IMAPKEEP_TEST_USER3");
    const char* password = std::getenv("IMAPKEEP_TEST_PASSWORD3");
    REQUIRE((user && password));
    std::ofstream(secret_file) << password << "\n";
    std::ofstream(f.config) << "[store]\npath = \"" << f.store << "\"\n[[account]]\nname = \"dovecot\"\n"
                            << "host = \"localhost\"\nport = " << port << "\nca_file = \""
                            << std::getenv("IMAPKEEP_TEST_CA_FILE") << "\"\nuser = \""
                            << user << "\"\npassword_file = \"" << secret_file
                            << "\"\nconnections = 2\n";
    cli::Services services{sync::backup_account};
    auto backup = f.run({"backup", "--config", f.config, "--json"}, services);
    INFO(backup.err);
    REQUIRE(backup.code == 0);
    auto report = nlohmann::json::parse(backup.out);
    CHECK(report["accounts"][0]["error"].is_null());
    CHECK(backup.out.find(password) == std::string::npos);

    auto verify = f.run({"verify", "--config", f.config, "--server"});
    INFO(verify.err);
    CHECK(verify.code == 0);
    CHECK(verify.out.find("dovecot: server: UIDs and flags match") != std::string::npos);

    std::ofstream(secret_file) << "not-the-password\n";
    auto wrong = f.run({"backup", "--config", f.config, "-q"}, services);
    CHECK(wrong.code == 3);
    CHECK(wrong.out.empty());
    CHECK(wrong.err.find("dovecot: cannot connect: ") != std::string::npos);
    CHECK(wrong.err.find("not-the-password") == std::string::npos);
}
