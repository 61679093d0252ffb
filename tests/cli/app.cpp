#include "cli_fixture.hpp"

#include <catch2/catch.hpp>

using cli_test::CliFixture;

TEST_CASE("usage: version, help, and parse errors exit 2", "[app]") {
    CliFixture f;
    struct Case {
        std::vector<std::string> args;
        int code;
        const char* out_has;
        const char* err_has;
    };
    const Case cases[] = {
        {{"--version"}, 0, "imapkeep 0.1.0", ""},
        {{"--help"}, 0, "Exit codes: 0 ok, 1 some mailboxes failed", ""},
        {{"--help"}, 0, "backup", ""},
        {{"--help"}, 0, "First time? `imapkeep init`", ""},
        {{}, 2, "", "First time? `imapkeep init`"},
        {{"backup", "--help"}, 0, "--dry-run", ""},
        {{"backup", "--help"}, 0, "--mailbox PATTERN", ""},
        {{"status", "--help"}, 0, "--json", ""},
        {{"verify", "--help"}, 0, "--server", ""},
        {{"restore", "--help"}, 0, "--to TARGET", ""},
        {{"export", "--help"}, 0, "--format", ""},
        {{}, 2, "", "a command is required"},
        {{"frobnicate"}, 2, "", "frobnicate"},
        {{"backup", "--bogus"}, 2, "", "--bogus"},
        {{"backup", "-q", "-v"}, 2, "", "excludes"},
        {{"export", "--format", "zip", "--output", "/tmp/x"}, 2, "", "zip"},
        {{"restore", "--account", "work"}, 2, "", "--to"},
        // --config after the action, as every other command takes it.
        {{"accounts", "list", "--config", "/nonexistent/imapkeep.toml"}, 2, "", "cannot read the config file"},
        // Either source, never both: --account beside --url was dropped unsaid.
        {{"export", "--url", "imap://me@imap.invalid/INBOX", "--account", "work", "--format", "mbox", "--output",
          "/tmp/imapkeep-never-written"},
         2, "", "give either --account NAME (from the store) or --url URL"},
    };
    for (const auto& c : cases) {
        std::string joined;
        for (const auto& a : c.args) joined += a + " ";
        INFO(joined);
        auto r = f.run(c.args);
        INFO(r.out << r.err);
        CHECK(r.code == c.code);
        CHECK(r.out.find(c.out_has) != std::string::npos);
        CHECK(r.err.find(c.err_has) != std::string::npos);
    }
}

// Issue 11: a mistyped command is named as such, every parse error carries
// the program's prefix, and --help after an unknown command is no success.
TEST_CASE("parse errors start with 'imapkeep:' and name an unknown command", "[app]") {
    CliFixture f;
    const struct {
        std::vector<std::string> args;
        const char* err_has;
    } cases[] = {
        {{"frobnicate"}, "imapkeep: unknown command \"frobnicate\""},
        {{"setup", "--help"}, "imapkeep: unknown command \"setup\""},
        {{"bakup", "--config", "x"}, "imapkeep: unknown command \"bakup\""},
        {{"backup", "--bogus"}, "imapkeep: "},
        {{"backup", "-q", "-v"}, "imapkeep: "},
        {{"export", "--format", "zip", "--output", "/tmp/x"}, "imapkeep: "},
        {{"restore", "--account", "work"}, "imapkeep: "},
    };
    for (const auto& c : cases) {
        std::string joined;
        for (const auto& a : c.args) joined += a + " ";
        INFO(joined);
        auto r = f.run(c.args);
        INFO(r.out << r.err);
        CHECK(r.code == 2);
        CHECK(r.err.rfind(c.err_has, 0) == 0);
        CHECK(r.out.empty());
    }
}

// One source: a second --account was silently ignored.
TEST_CASE("restore and export take one --account", "[app]") {
    CliFixture f;
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"restore", "--config", f.config, "--account", "work", "--account", "home", "--to", "home"},
             {"export", "--config", f.config, "--account", "work", "--account", "home", "--format", "mbox",
              "--output", "/tmp/x"}}) {
        auto r = f.run(args);
        INFO(r.err);
        CHECK(r.code == 2);
        CHECK(r.err.rfind("imapkeep: ", 0) == 0);
        CHECK(r.err.find("--account") != std::string::npos);
    }
}

// Issue 11: an --output that exists is a usage error (2), told before any
// store is opened or server contacted (port 1: nobody listens there).
TEST_CASE("export to an --output that exists is a usage error, found first", "[app]") {
    CliFixture f;
    const std::string taken = f.config;  // any existing file
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"export", "--url", "imap://u@127.0.0.1:1/INBOX", "--plaintext", "--format", "mbox", "--output", taken},
             {"export", "--config", f.config, "--account", "work", "--format", "eml", "--output", taken}}) {
        auto r = f.run(args);
        INFO(r.err);
        CHECK(r.code == 2);
        CHECK(r.err == "imapkeep export: --output: " + taken +
                           " already exists (give a new path or an empty directory)\n");
    }
}

TEST_CASE("--config is accepted before the command as well as after it", "[app]") {
    CliFixture f;
    auto before = f.run({"--config", f.config, "status"});
    INFO(before.err);
    CHECK(before.code == 0);
    auto after = f.run({"status", "--config", f.config});
    CHECK(after.code == 0);
    CHECK(before.out == after.out);
    // Given twice, the one after the command wins (it is the more specific).
    auto both = f.run({"--config", "/nonexistent/a.toml", "status", "--config", f.config});
    CHECK(both.code == 0);
}

TEST_CASE("restore and export refuse what they cannot do with a usage error", "[app]") {
    CliFixture f;
    auto restore = f.run({"restore", "--config", f.config, "--account", "work", "--to", "home"});
    CHECK(restore.code == 2);
    CHECK(restore.err.find("account work has no backup") != std::string::npos);
    const std::string out = f.store + "-export";  // a path nobody has
    auto exp = f.run({"export", "--config", f.config, "--account", "work", "--format", "mbox", "--output", out});
    CHECK(exp.code == 2);
    CHECK(exp.err.find("account work has no backup") != std::string::npos);
    auto url = f.run({"export", "--url", "ftp://nowhere", "--format", "mbox", "--output", out});
    CHECK(url.code == 2);
    auto format = f.run({"export", "--url", "imaps://u@h", "--format", "zip", "--output", out});
    CHECK(format.code == 2);
}

TEST_CASE("config errors exit 2 with file:line: key", "[app]") {
    CliFixture f;
    f.write_config("port = 0");
    auto r = f.run({"status", "--config", f.config});
    CHECK(r.code == 2);
    CHECK(r.err == "imapkeep: " + f.config + ":9: account.port: expected an integer between 1 and 65535, not 0\n");

    auto missing = f.run({"status", "--config", f.config + ".nope"});
    CHECK(missing.code == 2);
    CHECK(missing.err.find(f.config + ".nope: cannot read the config file") != std::string::npos);
    // A first run with no config says how to get one.
    CHECK(missing.err.find("run `imapkeep init` to write one") != std::string::npos);

    f.write_config("");
    auto unknown = f.run({"status", "--config", f.config, "--account", "play"});
    CHECK(unknown.code == 2);
    CHECK(unknown.err.find("no account named \"play\" (configured: work, home)") != std::string::npos);
}

TEST_CASE("warnings: tls_verify = false and a world-readable config, every run", "[app]") {
    CliFixture f;
    // The config holds a password: readable by others only with the override.
    f.write_config("tls_verify = false\nallow_readable_secrets = true");
    std::filesystem::permissions(f.config, std::filesystem::perms::others_read, std::filesystem::perm_options::add);
    auto r = f.run({"status", "--config", f.config});
    CHECK(r.code == 0);
    CHECK(r.err.find("imapkeep: WARNING: account work: tls_verify = false") != std::string::npos);
    CHECK(r.err.find("imapkeep: warning: readable by other users (chmod 600 " + f.config + ")") !=
          std::string::npos);
    CHECK(r.err.find("imapkeep: WARNING: " + f.config + " holds the password of account work") !=
          std::string::npos);
}
