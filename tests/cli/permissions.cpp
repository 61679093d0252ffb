#include "cli/permissions.hpp"

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
