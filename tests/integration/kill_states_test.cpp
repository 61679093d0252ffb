// The states a SIGKILL leaves inside one durable step, made by hand so that
// they are hit every time (kill_test.cpp finds them by chance): a message's
// file already moved to the attic while its catalog row still says live.
// The next run must record the move and go on (DESIGN.md invariant 3), and
// fetch the mailbox's new mail whatever happened to its old mail (invariant 7).
// Against Dovecot and Cyrus.
#include <catch2/catch.hpp>

#include "integration/backup_support.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
namespace fs = std::filesystem;

namespace {

std::string note(int i) {
    return "Subject: kill state " + std::to_string(i) + "\r\nMessage-ID: <ks." + std::to_string(i) +
           "@example.org>\r\n\r\nbody " + std::to_string(i) + "\r\n";
}

void expunge(imap::Client& c, const std::string& box, const std::string& uids) {
    c.select(box, false);
    REQUIRE_NOTHROW(c.uid_store(UidSet::parse(uids), imap::StoreFlags::add({"\\Deleted"}).silent()));
    REQUIRE(c.run("UID EXPUNGE", {wire::Arg::raw(uids)}).ok());
    c.unselect();
}

// What a run killed between a step's file moves and its catalog commit leaves:
// the live files of `box` (those with the given UIDs, or all) sit in the attic.
void move_to_attic_by_hand(Store& s, const std::string& box, const std::set<std::uint32_t>& uids) {
    auto account = s.catalog->find_account("it");
    REQUIRE(account);
    auto mb = s.catalog->find_mailbox(*account, box);
    REQUIRE(mb);
    int moved = 0;
    for (const auto& m : s.catalog->messages(mb->id)) {
        if (!uids.empty() && !uids.count(m.uid)) continue;
        REQUIRE(m.file.rfind("mail/", 0) == 0);
        const fs::path to = s.root / ("attic/" + m.file.substr(5));
        fs::create_directories(to.parent_path());
        fs::create_directories(to.parent_path().parent_path() / "new");
        fs::create_directories(to.parent_path().parent_path() / "tmp");
        fs::rename(s.root / m.file, to);
        ++moved;
    }
    REQUIRE(moved > 0);
}

}  // namespace

TEST_CASE("a file a killed run already moved to the attic is recorded, not an error",
          "[integration][kill]") {
    for (auto kind : servers_under_test())
        DYNAMIC_SECTION(server_name(kind)) {
            auto c = imap::connect_and_login(server_options(kind));
            const std::string d = hierarchy_delimiter(*c);
            const std::string p = unique_name("ikks");
            const std::string gone = p + d + "Gone";
            c->create(p);
            c->create(gone);
            for (int i = 1; i <= 4; ++i) c->append(p, {"\\Seen"}, std::nullopt, note(i));
            for (int i = 5; i <= 7; ++i) c->append(gone, {}, std::nullopt, note(i));

            sync::AccountConfig account;
            account.name = "it";
            account.connect = server_options(kind);
            account.mailboxes = {p, p + d + "*"};
            account.connections = 1;
            TempDir killed_dir, reference_dir;
            Store killed(killed_dir.path), reference(reference_dir.path);
            REQUIRE(killed.backup(account).error.empty());
            REQUIRE(reference.backup(account).error.empty());

            // The server moves on: an expunge, new mail, a mailbox deleted.
            expunge(*c, p, "2");
            c->append(p, {}, std::nullopt, note(8));
            c->delete_mailbox(gone);

            SECTION("an expunged message") { move_to_attic_by_hand(killed, p, {2}); }
            SECTION("a deleted mailbox, half way") { move_to_attic_by_hand(killed, gone, {1}); }
            SECTION("a deleted mailbox, every file") { move_to_attic_by_hand(killed, gone, {}); }

            auto resumed = killed.backup(account);
            for (const auto& m : resumed.mailboxes) {
                INFO(m.name);
                CHECK(m.errors.empty());
                for (const auto& e : m.errors) WARN(e);
            }
            REQUIRE(reference.backup(account).error.empty());
            CHECK(snapshot(killed, "it") == snapshot(reference, "it"));
            // The mailbox's new mail arrived whatever happened to its old mail.
            auto mb = killed.catalog->find_mailbox(*killed.catalog->find_account("it"), p);
            REQUIRE(mb);
            CHECK(mb->uidnext == 6);
            for (const auto& e : c->list("", p + "*")) c->delete_mailbox(e.name);
        }
}
