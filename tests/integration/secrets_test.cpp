// No password, SASL payload or token in anything imapkeep prints, at its top
// verbosity (-vv: the IMAP conversation), in --json, and in error messages,
// against the real Dovecot: each password source, LOGIN and each SASL
// mechanism, and a user name that must be sent as a literal.
//
// The output is printed to the test log on purpose: scripts/test.sh greps the
// whole ctest log for every test password, so this test feeds that check real
// -vv traces. It never prints a password itself.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <imapkeep/util/base64.hpp>
#include <iostream>

#include "integration/backup_support.hpp"
#include "integration/imapkeep_process.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
namespace fs = std::filesystem;

namespace {

struct SecretCase {
    const char* what;
    std::string user_line;      // user = ...
    std::string password_line;  // how the password gets there
    std::string auth_line;      // auth = ... or ""
    std::vector<std::string> args;
    int exit_code;
    const char* trace_marker;  // a line the -vv trace must hold, "" for none
};

// The forms a password could leak in: as it is, and inside SASL PLAIN's
// base64 payload ("\0user\0password"), however it is aligned.
std::vector<std::string> leak_forms(const std::string& user, const std::string& password) {
    std::vector<std::string> forms{password};
    forms.push_back(
        util::base64_encode(std::string(1, '\0') + user + std::string(1, '\0') + password));
    forms.push_back(util::base64_encode(password));
    return forms;
}

}  // namespace

TEST_CASE("no secret in any output, at -vv, in --json and in errors, against Dovecot",
          "[integration][secrets]") {
    if (!test_env_has({"IMAPKEEP_TEST_IMAPS_PORT", "IMAPKEEP_TEST_PASSWORD"}, "the test Dovecot"))
        return;
    const std::string password = test_password(1);
    const std::string user = test_user(1);
    REQUIRE(password.size() >= 8);  // a distinctive string (scripts/test-env/up.sh)
    auto admin = imap::connect_and_login(dovecot_options());
    const std::string mailbox = unique_name("iksecret");
    admin->create(mailbox);
    admin->append(mailbox, {}, std::nullopt, "Subject: secrets\r\n\r\nnothing to see\r\n");

    const std::string command = "password_command = \"printenv IMAPKEEP_TEST_PASSWORD\"\n";
    const std::vector<SecretCase> cases = {
        {"LOGIN, password_command, backup -vv",
         "user = \"" + user + "\"\n",
         command,
         "",
         {"backup", "-vv"},
         0,
         "LOGIN <redacted>"},
        {"LOGIN, inline password, backup --json -vv",
         "user = \"" + user + "\"\n",
         "password = \"" + password + "\"\n",
         "",
         {"backup", "--json", "-vv"},
         0,
         "LOGIN <redacted>"},
        {"LOGIN, password_file, verify --server -vv",
         "user = \"" + user + "\"\n",
         "password_file = \"pw\"\n",
         "",
         {"verify", "--server", "-vv"},
         0,
         "LOGIN <redacted>"},
        {"AUTHENTICATE PLAIN, backup -vv",
         "user = \"" + user + "\"\n",
         command,
         "auth = \"plain\"\n",
         {"backup", "-vv"},
         0,
         "AUTHENTICATE <redacted>"},
        {"AUTHENTICATE LOGIN, backup -vv",
         "user = \"" + user + "\"\n",
         command,
         "auth = \"login\"\n",
         {"backup", "-vv"},
         0,
         "AUTHENTICATE <redacted>"},
        {"CRAM-MD5, backup -vv",
         "user = \"" + user + "\"\n",
         command,
         "auth = \"cram-md5\"\n",
         {"backup", "-vv"},
         0,
         "AUTHENTICATE <redacted>"},
        // A user name with 8-bit bytes goes as a literal: the password follows
        // it in the next chunk. Dovecot refuses the user; the error names it.
        {"LOGIN, literal user name, refused, -vv",
         "user = \"\xC3\xBC" + user + "\"\n",
         command,
         "",
         {"backup", "-vv"},
         3,
         "LOGIN <redacted>"},
        // A one-shot export with no config traces its connection too.
        {"LOGIN, export --url --password-file -vv",
         "user = \"" + user + "\"\n",
         "",
         "",
         {"export", "--url",
          "imap://" + user + "@localhost:" + env("IMAPKEEP_TEST_IMAP_PORT").value_or("143") + "/" + mailbox,
          "--plaintext", "--password-file", "pw", "--format", "mbox", "--output", "out.mbox", "-vv"},
         0,
         "LOGIN <redacted>"},
        {"LOGIN, wrong password, --json -vv",
         "user = \"" + user + "\"\n",
         "password = \"" + password + "-no\"\n",
         "",
         {"backup", "--json", "-vv"},
         3,
         "LOGIN <redacted>"},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.what) {
            TempDir dir;
            ::chmod(dir.path.c_str(), 0700);
            const fs::path config = dir.path / "config.toml";
            std::ofstream(config)
                << "[store]\npath = \"" << (dir.path / "store").string()
                << "\"\n\n[[account]]\nname = \"s\"\nhost = \"localhost\"\nport = "
                << env("IMAPKEEP_TEST_IMAPS_PORT").value_or("993") << "\nca_file = \""
                << env("IMAPKEEP_TEST_CA_FILE").value_or("") << "\"\nmailboxes = [\"" << mailbox
                << "\"]\n"
                << c.user_line << c.password_line << c.auth_line;
            ::chmod(config.c_str(), 0600);
            std::ofstream(dir.path / "pw") << password << "\n";
            ::chmod((dir.path / "pw").c_str(), 0600);
            if (c.args.front() == "verify") {
                auto first =
                    run_imapkeep_binary({"backup", "-q", "--config", config.string()}, dir.path);
                REQUIRE(first.code == 0);
            }
            std::vector<std::string> args = c.args;
            for (auto& a : args)  // file arguments live in the case's directory
                if (a == "pw" || a == "out.mbox") a = (dir.path / a).string();
            args.insert(args.end(), {"--config", config.string()});
            auto r = run_imapkeep_binary(args, dir.path);
            // Into the test log, for scripts/test.sh's grep over all of it.
            std::cout << "=== secrets: " << c.what << " (exit " << r.code << ")\n"
                      << r.out << r.err;
            CHECK(r.code == c.exit_code);
            if (*c.trace_marker) CHECK_THAT(r.err, Catch::Contains(c.trace_marker));
            CHECK_THAT(r.err, Catch::Contains("S: ") && Catch::Contains("C: "));
            for (const auto& form : leak_forms(user, password)) {
                // Not printed: the form itself is the secret.
                CHECK(r.out.find(form) == std::string::npos);
                CHECK(r.err.find(form) == std::string::npos);
            }
            // The run report kept in the catalog holds no secret either.
            if (fs::exists(dir.path / "store" / "catalog.sqlite")) {
                const std::string catalog = slurp_file(dir.path / "store" / "catalog.sqlite") +
                                            slurp_file(dir.path / "store" / "catalog.sqlite-wal");
                CHECK(catalog.find(password) == std::string::npos);
            }
        }
    }
    admin->delete_mailbox(mailbox);
}
