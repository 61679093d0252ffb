// Every live mailbox has a Maildir folder of its own, empty ones too, and is
// addressed on the server by the exact bytes it was listed with:
//   - issue 8 case 3: INBOX/x and inbox/x, or two long names cut to one
//     length, get distinct folders, and cleaning one never unlinks the other's
//     files (invariant 2);
//   - case 14 (invariant 6): names the server lists in a non-canonical form go
//     back byte for byte, so EXAMINE finds them;
//   - case 15: empty mailboxes get cur/new/tmp, so mail readers see them.
#include <catch2/catch.hpp>

#include <filesystem>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
namespace fs = std::filesystem;

namespace {

struct Names {
    const char* what;
    std::vector<std::string> mailboxes;  // wire bytes, each gets one message
};

const std::string kLong(300, 'L');

const Names kNames[] = {
    {"INBOX children spelled in two cases", {"INBOX/x", "inbox/x", "Inbox/x"}},
    {"names cut to the same length", {kLong + "a", kLong + "b"}},
    {"8-bit bytes without UTF8=ACCEPT", {"Entw\xfc" "rfe"}},
    {"modified UTF-7 that is not canonical", {"&AGE-"}},
    {"a control character in a quoted string", {std::string("a\x01") + "b"}},
    {"a name that decodes to another listed name", {"&AGE-", "a"}},
};

}  // namespace

TEST_CASE("every listed mailbox is backed up into a folder of its own", "[sync][folders]") {
    for (const auto& c : kNames) {
        DYNAMIC_SECTION(c.what) {
            ModelFixture f;
            f.server.add_mailbox("INBOX");
            for (const auto& name : c.mailboxes) {
                f.server.add_mailbox(name);
                f.server.append(name, message("m." + std::to_string(name.size()) + name.substr(0, 2), name));
            }
            for (int run = 0; run < 2; ++run) {
                auto report = f.backup();
                INFO("run " << run << ": " << errors_of(report));
                REQUIRE(report_ok(report));
            }
            auto account = *f.store.catalog->find_account("acct");
            std::set<std::string> folders;
            std::size_t files = 0;
            for (const auto& mb : f.store.catalog->mailboxes(account)) {
                INFO(mb.name);
                folders.insert(mb.folder);
                auto rows = f.store.catalog->messages(mb.id);
                if (mb.name == "INBOX") continue;
                REQUIRE(rows.size() == 1);
                CHECK(fs::exists(f.store.messages->absolute(rows[0].file)));
                ++files;
            }
            CHECK(folders.size() == c.mailboxes.size() + 1);
            CHECK(files == c.mailboxes.size());
        }
    }
}

TEST_CASE("empty mailboxes get a Maildir folder too", "[sync][folders]") {
    ModelFixture f;
    for (const char* name : {"INBOX", "Sent", "Trash", "Archive/2023"}) f.server.add_mailbox(name);
    auto report = f.backup();
    INFO(errors_of(report));
    REQUIRE(report_ok(report));
    auto account = *f.store.catalog->find_account("acct");
    auto mailboxes = f.store.catalog->mailboxes(account);
    CHECK(mailboxes.size() == 4);
    for (const auto& mb : mailboxes) {
        INFO(mb.name << " -> '" << mb.folder << "'");
        fs::path dir = f.dir.path / "mail" / "acct" / mb.folder;
        for (const char* sub : {"cur", "new", "tmp"}) CHECK(fs::is_directory(dir / sub));
    }
}
