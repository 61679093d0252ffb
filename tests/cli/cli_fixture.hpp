// Shared by the command tests: a temporary config + store, and run_app driven
// in-process with captured output. The engine is injected (commands.hpp
// Services), so these tests exercise the command line, the lock, the catalog
// run records and the output without a server.
#pragma once

#include "cli/app.hpp"

#include <imapkeep/store/message_store.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace cli_test {

struct RunResult {
    int code = -1;
    std::string out;
    std::string err;
};

class CliFixture {
public:
    CliFixture() {
        std::string templ = (std::filesystem::temp_directory_path() / "imapkeep-cli-XXXXXX").string();
        m_dir = ::mkdtemp(templ.data());
        store = (m_dir / "store").string();
        config = (m_dir / "config.toml").string();
        write_config("");
    }
    ~CliFixture() { std::filesystem::remove_all(m_dir); }

    // Two accounts; `extra` is appended to the first one.
    void write_config(const std::string& extra) {
        std::ofstream(config) << "[store]\npath = \"" << store << "\"\n\n"
                              << "[[account]]\nname = \"work\"\nhost = \"imap.invalid\"\nuser = \"me\"\n"
                              << "password = \"hunter2-secret\"\n"
                              << extra << "\n"
                              << "[[account]]\nname = \"home\"\nhost = \"imap.invalid\"\nuser = \"me\"\n"
                              << "password_command = \"echo hunter3-secret\"\n";
        std::filesystem::permissions(config, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    }

    RunResult run(std::vector<std::string> args, const imapkeep::cli::Services& services = {}) {
        args.insert(args.begin(), "imapkeep");
        std::vector<const char*> argv;
        for (const auto& a : args) argv.push_back(a.c_str());
        std::ostringstream out, err;
        imapkeep::cli::Io io{out, err, false};
        RunResult r;
        r.code = imapkeep::cli::run_app(static_cast<int>(argv.size()), argv.data(), services, io);
        r.out = out.str();
        r.err = err.str();
        return r;
    }

    std::string store;
    std::string config;

private:
    std::filesystem::path m_dir;
};

// Stores one message the way the engine does: tmp, fsync, rename into cur/.
inline std::string put_message(imapkeep::store::MessageStore& messages, const std::string& account,
                               const std::string& folder, std::uint32_t uid, const std::string& body,
                               imapkeep::store::MessageRecord* row = nullptr) {
    auto pending = messages.begin(account, folder);
    pending->write(body);
    pending->finish();
    messages.sync_pending();
    if (row) imapkeep::store::describe_stored(*pending, *row);
    return messages.commit(*pending, account, folder, uid, 1700000000, {"\\Seen"});
}

}  // namespace cli_test
