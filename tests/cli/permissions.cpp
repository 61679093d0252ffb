#include "cli/permissions.hpp"

#include "cli/cli_fixture.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using imapkeep::cli::exposure_warning;

TEST_CASE("config and store readable by others get one warning line", "[permissions]") {
    std::string templ = (std::filesystem::temp_directory_path() / "imapkeep-perm-XXXXXX").string();
    const std::filesystem::path dir = ::mkdtemp(templ.data());
    const std::string config = (dir / "config.toml").string();
    const std::string store = (dir / "store").string();
    std::ofstream(config) << "x";
    std::filesystem::create_directory(store);

    struct Case {
        mode_t config_mode, store_mode;
        std::optional<std::string> warning;
    };
    const Case cases[] = {
        {0600, 0700, std::nullopt},
        {0640, 0700, "warning: readable by other users (chmod 600 " + config + ")"},
        {0604, 0700, "warning: readable by other users (chmod 600 " + config + ")"},
        {0600, 0750, "warning: readable by other users (chmod 700 " + store + ")"},
        {0600, 0711, std::nullopt},  // searchable but not listable
        {0644, 0755, "warning: readable by other users (chmod 600 " + config + "; chmod 700 " + store + ")"},
    };
    for (const auto& c : cases) {
        ::chmod(config.c_str(), c.config_mode);
        ::chmod(store.c_str(), c.store_mode);
        INFO(std::oct << c.config_mode << " " << c.store_mode);
        CHECK(exposure_warning(config, store) == c.warning);
    }
    CHECK(exposure_warning((dir / "missing.toml").string(), (dir / "nostore").string()) == std::nullopt);
    std::filesystem::remove_all(dir);
}

TEST_CASE("a password others can read is refused unless the account allows it", "[permissions]") {
    using cli_test::CliFixture;
    CliFixture f;
    const std::string password_file = f.store + ".pw";
    std::ofstream(password_file) << "hunter4-secret\n";
    struct Case {
        const char* what;
        std::string extra;      // appended to account "work"
        mode_t config_mode;
        mode_t password_file_mode;
        int code;               // 2 = refused; anything else = it went on
        const char* message;
    };
    const Case cases[] = {
        {"inline password, private config", "", 0600, 0600, -1, ""},
        {"inline password, config readable by group", "", 0640, 0600, 2,
         "holds the password of account work and other users can read it: chmod 600"},
        {"inline password, config readable by all", "", 0644, 0600, 2, "allow_readable_secrets = true"},
        {"override", "allow_readable_secrets = true\n", 0644, 0600, -1,
         "WARNING: " },
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.what) {
            f.write_config(c.extra);
            ::chmod(f.config.c_str(), c.config_mode);
            ::chmod(password_file.c_str(), c.password_file_mode);
            auto r = f.run({"status", "--config", f.config});
            INFO(r.err);
            if (c.code == 2) CHECK(r.code == 2);
            else CHECK(r.code != 2);
            CHECK(r.err.find(c.message) != std::string::npos);
            CHECK(r.err.find("hunter2-secret") == std::string::npos);
        }
    }
    SECTION("a password_file readable by others") {
        std::ofstream(f.config) << "[store]\npath = \"" << f.store << "\"\n[[account]]\nname = \"work\"\n"
                                << "host = \"imap.invalid\"\nuser = \"me\"\npassword_file = \"" << password_file
                                << "\"\n";
        ::chmod(f.config.c_str(), 0644);  // no secret in it: a warning only
        ::chmod(password_file.c_str(), 0604);
        auto r = f.run({"status", "--config", f.config});
        INFO(r.err);
        CHECK(r.code == 2);
        CHECK(r.err.find(password_file + " holds the password of account work") != std::string::npos);
        ::chmod(password_file.c_str(), 0600);
        CHECK(f.run({"status", "--config", f.config}).code != 2);
    }
}
