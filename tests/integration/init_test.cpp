// `imapkeep init` from a script, as the built binary: it connects to the test
// Dovecot, shows the mailboxes, writes a config that doctor and backup then
// use as they are; a wrong password exits 3 and writes nothing.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "integration/backup_support.hpp"
#include "integration/imapkeep_process.hpp"
#include "test_env.hpp"

using namespace imapkeep::testing;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

mode_t mode_of(const std::filesystem::path& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

struct InitDir {
    InitDir() {
        std::string templ =
            (std::filesystem::temp_directory_path() / "imapkeep-init-XXXXXX").string();
        dir = ::mkdtemp(templ.data());
        config = dir / "conf" / "imapkeep.toml";
    }
    ~InitDir() { std::filesystem::remove_all(dir); }

    // `path_option`: --output, or --config (the same for init).
    std::vector<std::string> flags(const std::string& password_command,
                                   const std::string& path_option = "--output") const {
        return {"init",
                "--host",
                "localhost",
                "--port",
                env("IMAPKEEP_TEST_IMAPS_PORT").value_or("993"),
                "--ca-file",
                env("IMAPKEEP_TEST_CA_FILE").value_or(""),
                "--user",
                test_user(1),
                "--password-command",
                password_command,
                "--store",
                (dir / "store").string(),
                "--name",
                "mine",
                path_option,
                config.string(),
                "--no-timer"};
    }

    std::filesystem::path dir;
    std::filesystem::path config;
};

}  // namespace

TEST_CASE("init from a script writes a config that doctor and backup use as it is",
          "[integration][init]") {
    if (!have_dovecot_env()) return;
    InitDir d;
    // The password reaches the command through the environment of the test,
    // never a command line.
    ::setenv("IMAPKEEP_INIT_TEST_PW", test_password(1).c_str(), 1);
    auto r = run_imapkeep_binary(d.flags("printf '%s\\n' \"$IMAPKEEP_INIT_TEST_PW\"", "--config"),
                                 d.dir);
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    CHECK(contains(r.out, "Connected to localhost as " + test_user(1)));
    CHECK(contains(r.out, "Capabilities: IMAP4REV1"));
    CHECK(contains(r.out, "  INBOX "));
    CHECK(contains(r.out, "to back up"));
    CHECK(contains(r.out, "Wrote " + d.config.string() + " (mode 0600)"));
    CHECK(mode_of(d.config) == 0600);
    CHECK(mode_of(d.config.parent_path()) == 0700);
    const std::string text = slurp_file(d.config);
    CHECK_FALSE(contains(text, test_password(1)));
    CHECK(contains(text, "name = \"mine\""));
    CHECK_FALSE(std::filesystem::exists(d.dir / "store"));  // init downloads nothing

    auto doctor = run_imapkeep_binary({"doctor", "--config", d.config.string()}, d.dir);
    INFO(doctor.out << doctor.err);
    CHECK(doctor.code == 0);
    CHECK(contains(doctor.out, "OK   mine: login "));

    auto backup = run_imapkeep_binary({"--config", d.config.string(), "backup", "-q"}, d.dir);
    INFO(backup.out << backup.err);
    CHECK(backup.code == 0);
    CHECK(std::filesystem::exists(d.dir / "store" / "catalog.sqlite"));

    auto again = run_imapkeep_binary(d.flags("true"), d.dir);
    CHECK(again.code == 2);
    CHECK(contains(again.err, "exists; not overwriting it (--force replaces it)"));
}

TEST_CASE("init from a script: a wrong password exits 3, says why, writes nothing",
          "[integration][init]") {
    if (!have_dovecot_env()) return;
    InitDir d;
    auto r = run_imapkeep_binary(d.flags("echo not-the-Pw-456"), d.dir);
    INFO(r.out << r.err);
    CHECK(r.code == 3);
    CHECK(contains(r.err, "imapkeep init: cannot connect: localhost:"));
    CHECK(contains(r.err, "authentication failed for " + test_user(1)));
    CHECK_FALSE(contains(r.out + r.err, "not-the-Pw-456"));
    CHECK_FALSE(std::filesystem::exists(d.config));
}
