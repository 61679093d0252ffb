// A store path that holds no backup (a typo, a store not made yet) is only
// read: export and restore said "has no backup" but had first made the
// folder, its .lock and an empty catalog.sqlite there, which the next run
// with the right path never cleans up and a later typo finds "valid".
#include <catch2/catch.hpp>
#include <filesystem>

#include "cli/cli_fixture.hpp"

using cli_test::CliFixture;

TEST_CASE("commands that read a backup create nothing where there is none", "[store]") {
    struct Case {
        std::vector<std::string> args;  // after the command name and --config
    };
    const std::vector<std::pair<std::string, Case>> cases = {
        {"export", {{"--account", "work", "--format", "mbox", "--output", "OUT"}}},
        {"restore", {{"--account", "work", "--to", "home"}}},
        {"restore", {{"--account", "work", "--to", "home", "--dry-run"}}},
        {"verify", {{}}},
    };
    for (const auto& [command, c] : cases) {
        DYNAMIC_SECTION(command << " " << c.args.size()) {
            CliFixture f;
            const std::string out = f.store + "-export";
            std::vector<std::string> args = {command, "--config", f.config};
            for (const auto& a : c.args) args.push_back(a == "OUT" ? out : a);
            auto r = f.run(args);
            INFO(r.err);
            CHECK(r.code == 2);
            CHECK(r.err.find("no backup in " + f.store) != std::string::npos);
            CHECK_FALSE(std::filesystem::exists(f.store));
            CHECK_FALSE(std::filesystem::exists(out));
        }
    }
}
