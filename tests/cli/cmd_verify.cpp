#include "cli_fixture.hpp"

#include "cli/lock.hpp"

#include <imapkeep/store/sqlite_catalog.hpp>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

using cli_test::CliFixture;
using namespace imapkeep;

namespace {

// Two messages in work/INBOX, stored and catalogued; returns their files.
std::vector<std::string> backed_up_store(const CliFixture& f) {
    auto catalog = store::open_sqlite_catalog(f.store + "/catalog.sqlite");
    auto messages = store::open_maildir_store(f.store);
    store::MailboxRecord inbox;
    inbox.account_id = catalog->ensure_account("work");
    inbox.name = "INBOX";
    inbox.uidvalidity = 1;
    inbox.id = catalog->save_mailbox(inbox);
    std::vector<std::string> files;
    for (std::uint32_t uid = 1; uid <= 2; ++uid) {
        std::string body = "Subject: " + std::to_string(uid) + "\r\n\r\nbody\r\n";
        store::MessageRecord m;
        m.mailbox_id = inbox.id;
        m.uidvalidity = 1;
        m.uid = uid;
        m.size = body.size();
        m.flags = {"\\Seen"};
        m.file = cli_test::put_message(*messages, "work", "", uid, body, &m.sha256);
        catalog->add_message(m);
        files.push_back(messages->absolute(m.file));
    }
    return files;
}

}  // namespace

TEST_CASE("verify finds missing and corrupt files", "[verify]") {
    struct Case {
        const char* what;
        int damage;  // 0 none, 1 delete first, 2 flip a byte in the second
        int code;
        const char* err_has;
    };
    const Case cases[] = {
        {"intact", 0, 0, ""},
        {"missing file", 1, 1, "work: missing: "},
        {"corrupt file", 2, 1, "work: corrupt: "},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        CliFixture f;
        std::filesystem::create_directories(f.store);
        auto files = backed_up_store(f);
        if (c.damage == 1) std::filesystem::remove(files[0]);
        if (c.damage == 2) {
            std::fstream io(files[1], std::ios::in | std::ios::out | std::ios::binary);
            io.seekp(0);
            io.put('X');
        }
        auto r = f.run({"verify", "--config", f.config, "--account", "work"});
        INFO(r.err);
        CHECK(r.code == c.code);
        CHECK(r.err.find(c.err_has) != std::string::npos);
        if (c.damage == 0) CHECK(r.out == "work: files: all match the catalog\n");
        if (c.damage == 1) CHECK(r.err.find(files[0]) != std::string::npos);

        auto json = f.run({"verify", "--config", f.config, "--json", "--account", "work"});
        auto report = nlohmann::json::parse(json.out);
        CHECK(report["accounts"][0]["files"].size() == (c.damage ? 1u : 0u));
    }
}

TEST_CASE("verify without a backup, and while a backup holds the lock", "[verify]") {
    CliFixture f;
    auto none = f.run({"verify", "--config", f.config});
    CHECK(none.code == 2);
    CHECK(none.err.find("no backup in " + f.store) != std::string::npos);

    std::filesystem::create_directories(f.store);
    backed_up_store(f);
    cli::StoreLock held(f.store);
    auto busy = f.run({"verify", "--config", f.config});
    CHECK(busy.code == 75);
    CHECK(busy.err.find("another imapkeep run holds the lock") != std::string::npos);
}
