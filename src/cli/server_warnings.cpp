// Skipped server data, once per account and kind (server_warnings.hpp).
#include "cli/server_warnings.hpp"

#include <imapkeep/util/utf8.hpp>

#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace imapkeep::cli {

namespace {

// The client's warning is "<what was skipped>: <detail>": the part before the
// first ": " names the kind.
std::string kind_of(std::string_view warning) {
    auto colon = warning.find(": ");
    return std::string(warning.substr(0, colon));
}

}  // namespace

void report_skipped_server_data(Config& config, std::ostream& err) {
    auto mutex = std::make_shared<std::mutex>();
    for (auto& account : config.accounts) {
        auto seen = std::make_shared<std::set<std::string>>();
        account.connect.client.warning = [mutex, seen, &err, name = account.name](std::string_view text) {
            std::lock_guard lock(*mutex);
            if (!seen->insert(kind_of(text)).second) return;
            err << "imapkeep: " << name << ": warning: " << util::printable_utf8(text) << "\n";
        };
    }
}

}  // namespace imapkeep::cli
