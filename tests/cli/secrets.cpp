#include "cli/secrets.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace imapkeep::cli;

namespace {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string templ = (std::filesystem::temp_directory_path() / "imapkeep-secrets-XXXXXX").string();
        path = ::mkdtemp(templ.data());
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string write(const std::string& name, const std::string& content) const {
        std::ofstream(path / name, std::ios::binary) << content;
        return (path / name).string();
    }
};

}  // namespace

TEST_CASE("password commands give the first line of stdout", "[secrets]") {
    struct Case {
        const char* command;
        const char* expected;
    };
    const Case cases[] = {
        {"printf 'hunter2\\n'", "hunter2"},
        {"printf 'hunter2'", "hunter2"},                         // no final newline
        {"printf 'hunter2\\r\\nsecond line\\n'", "hunter2"},     // CRLF, more lines
        {"printf ' spaced pass \\n'", " spaced pass "},          // spaces are part of it
        {"echo one; echo two >&2", "one"},                       // stderr is not read
        {"yes secret | head -c 200000", "secret"},               // big output drains
    };
    for (const auto& c : cases) {
        INFO(c.command);
        CHECK(run_secret_command(c.command, "account a: password_command") == c.expected);
    }
}

TEST_CASE("password command failures name the account, never the output", "[secrets]") {
    struct Case {
        const char* command;
        const char* reason;
    };
    const Case cases[] = {
        {"echo leaked; exit 3", "exited with status 3"},
        {"printf '\\n'", "printed nothing"},
        {"true", "printed nothing"},
        {"kill -9 $$", "killed by signal 9"},
        {"/nonexistent/command", "exited with status 127"},
    };
    for (const auto& c : cases) {
        INFO(c.command);
        try {
            run_secret_command(c.command, "account work: password_command");
            FAIL("no exception");
        } catch (const SecretError& e) {
            std::string m = e.what();
            CHECK(m.rfind("account work: password_command: ", 0) == 0);
            CHECK(m.find(c.reason) != std::string::npos);
            CHECK(m.find("leaked") == std::string::npos);
            CHECK(e.kind() == imapkeep::imap::ConnectError::Kind::Auth);
        }
    }
}

TEST_CASE("password files, inline passwords and IMAPKEEP_PASSWORD", "[secrets]") {
    TempDir dir;
    ::unsetenv("IMAPKEEP_PASSWORD");

    PasswordSource file;
    file.file = dir.write("pw", "from-file\nignored\n");
    CHECK(make_password_function(file, "a")() == "from-file");

    PasswordSource empty_file;
    empty_file.file = dir.write("empty", "");
    CHECK_THROWS_WITH(make_password_function(empty_file, "a")(), Catch::Contains("account a: password_file") &&
                                                                     Catch::Contains("is empty"));

    PasswordSource inline_value;
    inline_value.inline_value = "inline";
    CHECK(make_password_function(inline_value, "a")() == "inline");

    PasswordSource command;
    command.command = "echo from-command";
    CHECK(make_password_function(command, "a")() == "from-command");

    // The environment is the fallback and is read when the password is needed,
    // not when the config is loaded.
    PasswordSource none;
    auto from_env = make_password_function(none, "acct");
    ::setenv("IMAPKEEP_PASSWORD", "from-env", 1);
    CHECK(from_env() == "from-env");
    ::unsetenv("IMAPKEEP_PASSWORD");
    CHECK_THROWS_WITH(make_password_function(none, "acct")(),
                      Catch::Contains("account acct: no password") && Catch::Contains("IMAPKEEP_PASSWORD"));
}

TEST_CASE("a password command runs once however many connections ask", "[secrets]") {
    TempDir dir;
    const std::string counter = (dir.path / "count").string();
    PasswordSource source;
    source.command = "echo x >> '" + counter + "'; echo pw";
    auto password = make_password_function(source, "a");
    std::ifstream before(counter);
    CHECK_FALSE(before.good());  // lazy: nothing ran yet
    for (int i = 0; i < 4; ++i) CHECK(password() == "pw");
    std::ifstream in(counter);
    std::string line;
    int runs = 0;
    while (std::getline(in, line)) ++runs;
    CHECK(runs == 1);

    std::atomic<int> calls{0};
    auto failing = once([&]() -> std::string {
        ++calls;
        throw SecretError("account a: password_command: command exited with status 1");
    });
    CHECK_THROWS_AS(failing(), SecretError);
    CHECK_THROWS_WITH(failing(), Catch::Contains("status 1"));
    CHECK(calls == 1);
}
