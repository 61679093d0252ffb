// The config loader (src/cli/config.cpp) on arbitrary text: every input is
// either a Config or a ConfigError with "FILE:LINE: " in front; nothing else
// escapes, nothing crashes, and a config that loads names an existing store
// path and at least one account.
#include "cli/config.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz_check.hpp"

using imapkeep::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const std::string file = "/fuzz/config.toml";
    try {
        auto config = imapkeep::cli::parse_config(text, file);
        check(!config.store_path.empty(), "a loaded config has a store path");
        check(!config.accounts.empty(), "a loaded config has an account");
    } catch (const imapkeep::cli::ConfigError& e) {
        check(std::string(e.what()).rfind(file + ":", 0) == 0, "errors start with FILE:");
    }
    return 0;
}
