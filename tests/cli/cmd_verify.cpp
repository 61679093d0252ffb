#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <imapkeep/sync/backup.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "cli/lock.hpp"
#include "cli_fixture.hpp"
#include "test_env.hpp"

using cli_test::CliFixture;
using namespace imapkeep;

namespace {

// Two messages in work/INBOX, stored and catalogued; returns their files.
std::vector<std::string> backed_up_store(const CliFixture& f) { return cli_test::backed_up_store(f.store); }

}  // namespace

TEST_CASE("verify finds missing and corrupt files", "[verify]") {
    struct Case {
        const char* what;
        int damage;  // 0 none, 1 delete first, 2 flip a byte in the second, 3 mutt renames the first
        int code;
        const char* err_has;
    };
    const Case cases[] = {
        {"intact", 0, 0, ""},
        {"missing file", 1, 1, "work: missing: "},
        {"corrupt file", 2, 1, "work: corrupt: "},
        // Case 3a: a flag change by a mail reader is no loss; it is named as such.
        {"renamed by a mail reader", 3, 0, ""},
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
        const std::string renamed = files[0].substr(0, files[0].rfind(":2,")) + ":2,FS";
        if (c.damage == 3) std::filesystem::rename(files[0], renamed);
        auto r = f.run({"verify", "--config", f.config, "--account", "work"});
        INFO(r.err);
        CHECK(r.code == c.code);
        CHECK(r.err.find(c.err_has) != std::string::npos);
        if (c.damage == 0) CHECK(r.out == "work: files: all match the catalog\n");
        if (c.damage == 1) CHECK(r.err.find(files[0]) != std::string::npos);
        if (c.damage == 3) {
            CHECK(r.out.find("work: renamed by a mail reader: " + files[0] + " -> " + renamed) !=
                  std::string::npos);
            CHECK(r.out.find("missing") == std::string::npos);
            CHECK(r.err.empty());
        }

        auto json = f.run({"verify", "--config", f.config, "--json", "--account", "work"});
        auto report = nlohmann::json::parse(json.out);
        CHECK(report["accounts"][0]["files"].size() == (c.damage ? 1u : 0u));
        if (c.damage == 3) {
            CHECK(report["accounts"][0]["files"][0]["problem"] == "renamed");
            CHECK(report["accounts"][0]["files"][0]["actual_file"] ==
                  "mail/work/cur/" + renamed.substr(renamed.rfind('/') + 1));
        }
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

// Against the real Dovecot of scripts/test-env/up.sh: a real backup, then
// verify --server agrees with the server; a wrong password is exit 3.
TEST_CASE("backup then verify --server against Dovecot", "[verify][integration]") {
    if (!imapkeep::testing::test_env_has(
            {"IMAPKEEP_TEST_IMAP_PORT", "IMAPKEEP_TEST_IMAPS_PORT", "IMAPKEEP_TEST_USER3", "IMAPKEEP_TEST_PASSWORD3"},
            "the test Dovecot"))
        return;
    const char* port = std::getenv("IMAPKEEP_TEST_IMAPS_PORT");
    CliFixture f;
    const std::string secret_file = f.store + ".pw";
    // user3: a whole-account backup must not race other tests' mailboxes in user1.
    const char* user = std::getenv("IMAPKEEP_TEST_USER3");
    const char* password = std::getenv("IMAPKEEP_TEST_PASSWORD3");
    REQUIRE((user && password));
    std::ofstream(secret_file) << password << "\n";
    // Private, as imapkeep requires of a password file, whatever the umask.
    std::filesystem::permissions(secret_file, std::filesystem::perms::owner_read |
                                                  std::filesystem::perms::owner_write);
    std::ofstream(f.config) << "[store]\npath = \"" << f.store << "\"\n[[account]]\nname = \"dovecot\"\n"
                            << "host = \"localhost\"\nport = " << port << "\nca_file = \""
                            << std::getenv("IMAPKEEP_TEST_CA_FILE") << "\"\nuser = \""
                            << user << "\"\npassword_file = \"" << secret_file
                            << "\"\nconnections = 2\n";
    cli::Services services{sync::backup_account};
    auto backup = f.run({"backup", "--config", f.config, "--json"}, services);
    INFO(backup.err);
    REQUIRE(backup.code == 0);
    auto report = nlohmann::json::parse(backup.out);
    CHECK(report["accounts"][0]["error"].is_null());
    CHECK(backup.out.find(password) == std::string::npos);

    auto verify = f.run({"verify", "--config", f.config, "--server"});
    INFO(verify.err);
    CHECK(verify.code == 0);
    CHECK(verify.out.find("dovecot: server: UIDs and flags match") != std::string::npos);

    std::ofstream(secret_file) << "not-the-password\n";
    auto wrong = f.run({"backup", "--config", f.config, "-q"}, services);
    CHECK(wrong.code == 3);
    CHECK(wrong.out.empty());
    CHECK(wrong.err.find("dovecot: cannot connect: ") != std::string::npos);
    CHECK(wrong.err.find("not-the-password") == std::string::npos);
}

namespace {

// A Gmail store converted by the older adoption code (before adopted copies
// got unique names of their own, MessageStore::link_as_new): All Mail's copy
// was the label file linked under its own unique name, and so were its label
// links. Two messages:
// - "a" was UID 5 of Work, is UID 9 of All Mail, and Work was retired under
//   expunged = keep: its row and file are in the attic, and the Work link
//   (UID 9's name) shares the attic file's unique name in .Work;
// - "b" is UID 3 of INBOX and of All Mail (the UIDs agreed): its \Inbox link
//   is the INBOX row's own file, INBOX not retired yet.
struct OldAdoption {
    std::string attic_file, inbox_file, work_link, inbox_link, all_a, all_b;
};

OldAdoption build_old_adoption(const std::string& root) {
    std::filesystem::create_directories(root);
    auto catalog = store::open_sqlite_catalog(root + "/catalog.sqlite");
    auto messages = store::open_maildir_store(root);
    const auto account = catalog->ensure_account("work");
    auto mailbox = [&](const std::string& name, const std::string& folder) {
        store::MailboxRecord mb;
        mb.account_id = account;
        mb.name = name;
        mb.delimiter = "/";
        mb.folder = folder;
        mb.uidvalidity = 1;
        mb.uidnext = 10;
        mb.id = catalog->save_mailbox(mb);
        return mb;
    };
    auto all = mailbox("[Gmail]/All Mail", ".All");
    auto work = mailbox("Work", ".Work");
    auto inbox = mailbox("INBOX", "");
    auto row = [&](const store::MailboxRecord& mb, std::uint32_t uid, const std::string& body) {
        store::MessageRecord m;
        m.mailbox_id = mb.id;
        m.uidvalidity = 1;
        m.uid = uid;
        m.flags = {"\\Seen"};
        m.internaldate = 1700000000;
        m.file = cli_test::put_message(*messages, "work", mb.folder, uid, body, &m);
        m.id = catalog->add_message(m);
        return m;
    };
    // The older adoption: link_into_folder, set_uid, set_flags.
    auto adopt = [&](store::MessageRecord m, std::uint32_t uid, const std::string& label,
                     const std::string& label_folder) {
        m.file = messages->set_uid(messages->link_into_folder(m.file, "work", all.folder), uid);
        m.mailbox_id = all.id;
        m.uid = uid;
        m.id = catalog->add_message(m);
        const auto link = messages->link_into_folder(m.file, "work", label_folder);
        messages->sync_committed();
        catalog->set_gmail_message({m.id, 1000 + uid, 2000 + uid, {label}}, 1700000000);
        catalog->set_label_links(m.id, {{label, link}});
        return std::make_pair(m.file, link);
    };
    OldAdoption out;
    auto a = row(work, 5, "Subject: a\r\n\r\nA\r\n");
    auto b = row(inbox, 3, "Subject: b\r\n\r\nB\r\n");
    std::tie(out.all_a, out.work_link) = adopt(a, 9, "Work", work.folder);
    std::tie(out.all_b, out.inbox_link) = adopt(b, 3, "\\Inbox", inbox.folder);
    // Work retired as a deleted mailbox goes under keep.
    out.attic_file = messages->move_to_attic(a.file);
    messages->sync_committed();
    catalog->mark_expunged(a.id, 1700000100, out.attic_file);
    work.deleted_at = 1700000100;
    catalog->save_mailbox(work);
    out.inbox_file = b.file;
    return out;
}

std::string unique_of(const std::string& path) {
    auto name = path.substr(path.rfind('/') + 1);
    return name.substr(0, name.find(','));
}

std::uint64_t inode_of(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_ino) : 0;
}

}  // namespace

// Issue 12: a store converted by the older adoption code has label links that
// share a unique name with another row's file in the same folder (an attic
// file, or a label mailbox's live file). MessageStore::locate() goes by that
// name, so a step replayed after a kill (a label link removed again, a label
// mailbox retired again) could take the other row's file. verify names them;
// verify --repair gives the row's file a unique name of its own (a hard link:
// no bytes copied), with no server.
TEST_CASE(
    "verify finds label links sharing a name with another row's file; --repair renames the row's "
    "file",
    "[verify][gmail]") {
    CliFixture f;
    const auto old = build_old_adoption(f.store);
    const auto abs = [&](const std::string& p) { return f.store + "/" + p; };
    REQUIRE(unique_of(old.work_link) == unique_of(old.attic_file));
    REQUIRE(old.inbox_link == old.inbox_file);

    auto found = f.run({"verify", "--config", f.config, "--account", "work"});
    INFO(found.out << found.err);
    CHECK(found.code == 1);
    CHECK(found.err.find("work: name shared: " + abs(old.attic_file)) != std::string::npos);
    CHECK(found.err.find("work: name shared: " + abs(old.inbox_file)) != std::string::npos);

    auto repaired = f.run({"verify", "--config", f.config, "--account", "work", "--repair"});
    INFO(repaired.out << repaired.err);
    CHECK(repaired.code == 0);
    CHECK(repaired.err.find("work: repaired: " + abs(old.attic_file)) != std::string::npos);
    auto again = f.run({"verify", "--config", f.config, "--account", "work", "--json"});
    INFO(again.out << again.err);
    CHECK(again.code == 0);
    CHECK(nlohmann::json::parse(again.out)["accounts"][0]["files"].empty());

    auto catalog = store::open_sqlite_catalog(f.store + "/catalog.sqlite");
    auto messages = store::open_maildir_store(f.store);
    const auto account = *catalog->find_account("work");
    std::map<std::string, store::MessageRecord> rows;  // by mailbox
    for (const auto& mb : catalog->mailboxes(account, true))
        for (const auto& m : catalog->all_messages(mb.id))
            rows[mb.name + "/" + std::to_string(m.uid)] = m;
    const auto attic = rows.at("Work/5");
    const auto inbox = rows.at("INBOX/3");
    // Names of their own now, the same bytes (same inode: nothing copied);
    // the links and All Mail's copies are as they were.
    CHECK(attic.file.rfind("attic/work/.Work/cur/", 0) == 0);
    CHECK(unique_of(attic.file) != unique_of(old.work_link));
    CHECK(unique_of(inbox.file) != unique_of(old.inbox_link));
    CHECK(inode_of(abs(attic.file)) == inode_of(abs(old.all_a)));
    CHECK(inode_of(abs(inbox.file)) == inode_of(abs(old.all_b)));
    CHECK_FALSE(std::filesystem::exists(abs(old.attic_file)));
    CHECK(std::filesystem::exists(abs(old.work_link)));
    CHECK(std::filesystem::exists(abs(old.inbox_link)));

    // The replays that took the wrong file now find none: a label link
    // removed again after a kill (already gone), and the INBOX link removed
    // while INBOX is still a live label mailbox.
    std::filesystem::remove(abs(old.work_link));
    messages->remove(old.work_link);
    CHECK(std::filesystem::exists(abs(attic.file)));
    messages->remove(old.inbox_link);
    CHECK(std::filesystem::exists(abs(inbox.file)));
}
