// Shared by the command tests: a temporary config + store, and run_app driven
// in-process with captured output. The engine is injected (commands.hpp
// Services), so these tests exercise the command line, the lock, the catalog
// run records and the output without a server.
#pragma once

#include "cli/app.hpp"

#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
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
        // run_app makes the process's umask 077 for the commands that write
        // the store; a real run ends there. In-process, each run starts with
        // the umask the test process had, so no test depends on which ran
        // before it.
        const mode_t umask_before = ::umask(077);
        ::umask(umask_before);
        r.code = imapkeep::cli::run_app(static_cast<int>(argv.size()), argv.data(), services, io);
        ::umask(umask_before);
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

// `count` messages (UIDs 1..count) in work/INBOX, stored and catalogued, as
// a backup leaves them; returns their absolute files.
inline std::vector<std::string> backed_up_store(const std::string& store_root, std::uint32_t count = 2) {
    // Private, as imapkeep makes a store (otherwise every command warns).
    std::filesystem::create_directories(store_root);
    std::filesystem::permissions(store_root, std::filesystem::perms::owner_all);
    auto catalog = imapkeep::store::open_sqlite_catalog(store_root + "/catalog.sqlite");
    auto messages = imapkeep::store::open_maildir_store(store_root);
    imapkeep::store::MailboxRecord inbox;
    inbox.account_id = catalog->ensure_account("work");
    inbox.name = "INBOX";
    inbox.uidvalidity = 1;
    inbox.id = catalog->save_mailbox(inbox);
    std::vector<std::string> files;
    for (std::uint32_t uid = 1; uid <= count; ++uid) {
        std::string body = "Subject: " + std::to_string(uid) + "\r\n\r\nbody\r\n";
        imapkeep::store::MessageRecord m;
        m.mailbox_id = inbox.id;
        m.uidvalidity = 1;
        m.uid = uid;
        m.flags = {"\\Seen"};
        m.file = put_message(*messages, "work", "", uid, body, &m);
        catalog->add_message(m);
        files.push_back(messages->absolute(m.file));
    }
    return files;
}

}  // namespace cli_test
