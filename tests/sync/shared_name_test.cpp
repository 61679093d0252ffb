// A store converted by the older Gmail adoption can hold two files of one
// unique name in one folder: a live message's and, in the attic, another
// row's (verify reports them as "name shared"; verify --repair renames
// them). A mirror-mode run deletes a message's own file and nothing else:
// when that file is gone already (a killed run unlinked it before its
// catalog commit), it must not find the attic copy by its unique name
// (MessageStore::locate()) and delete that.
#include <catch2/catch.hpp>
#include <filesystem>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

struct SharedNameFixture : ModelFixture {
    store::MessageRecord live;  // Work's UID 1, its live file gone
    std::string attic;          // the other row's attic file of the same unique name

    SharedNameFixture() {
        server.add_mailbox("INBOX");
        server.add_mailbox("Work");
        server.append("INBOX", message("a"));
        server.append("Work", message("w"));
        account.connections = 1;
        REQUIRE(report_ok(backup()));
        const auto work = record("Work");
        REQUIRE(work);
        live = store.catalog->messages(work->id).at(0);
        REQUIRE(live.file.rfind("mail/", 0) == 0);
        // The other row: a retired message of Work whose attic file has the
        // live file's name (same bytes, another inode).
        attic = "attic/" + live.file.substr(5);
        const auto attic_path = std::filesystem::path(store.messages->absolute(attic));
        std::filesystem::create_directories(attic_path.parent_path());
        std::filesystem::copy_file(store.messages->absolute(live.file), attic_path);
        store::MessageRecord other = live;
        other.uid = 99;
        const auto other_id = store.catalog->add_message(other);
        store.catalog->mark_expunged(other_id, 100, attic);
        // A killed mirror run unlinked the live file before its commit.
        std::filesystem::remove(store.messages->absolute(live.file));
        account.expunged = sync::ExpungedPolicy::Mirror;
    }

    bool attic_kept() { return std::filesystem::exists(store.messages->absolute(attic)); }
};

}  // namespace

TEST_CASE(
    "mirror mode: removing a message whose file is gone never deletes an attic file of its "
    "unique name",
    "[sync][mirror]") {
    SharedNameFixture f;
    bool deleted = false;
    SECTION("the message is expunged") { f.server.expunge("Work", 1); }
    SECTION("its mailbox is deleted") {
        f.server.delete_mailbox("Work");
        deleted = true;
    }
    const auto report = f.backup();
    INFO(report.error);
    CHECK(f.attic_kept());
    const auto work = f.record("Work");
    CHECK(work.has_value() == !deleted);
    if (work)
        for (const auto& m : f.store.catalog->messages(work->id)) CHECK(m.uid != 1);
}
