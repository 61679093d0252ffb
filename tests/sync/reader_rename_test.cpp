// Issue 8 case 3a: a mail reader (mutt, notmuch) renames a message file when
// its flags change, "...:2," to "...:2,S", or moves it from new/ to cur/. The
// next backup puts the server's flags back on the file and records the path,
// so nothing looks lost and the Maildir mirrors the server again.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <imapkeep/store/verify.hpp>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
namespace fs = std::filesystem;

TEST_CASE("the next backup undoes a mail reader's flag rename", "[sync][reader]") {
    for (bool server_changed : {false, true}) {
        DYNAMIC_SECTION((server_changed ? "the server changed too" : "the server is unchanged")) {
            ModelFixture f;
            f.server.add_mailbox("INBOX");
            f.server.append("INBOX", message("one"), {"\\Seen"});
            f.server.append("INBOX", message("two"));
            REQUIRE(report_ok(f.backup()));
            auto inbox = *f.record("INBOX");
            auto rows = f.store.catalog->messages(inbox.id);
            REQUIRE(rows.size() == 2);

            // What mutt does when the user flags message 2 and reads it.
            fs::path old_path = f.store.messages->absolute(rows[1].file);
            std::string name = old_path.filename().string();
            fs::path new_path = old_path.parent_path() / (name.substr(0, name.find(":2,")) + ":2,FS");
            fs::rename(old_path, new_path);
            if (server_changed) f.server.append("INBOX", message("three"));

            auto report = f.backup();
            INFO(errors_of(report));
            REQUIRE(report_ok(report));
            for (const auto& m : f.store.catalog->messages(inbox.id)) {
                INFO(m.file);
                auto path = f.store.messages->absolute(m.file);
                CHECK(fs::exists(path));
                CHECK(path.find(":2," + store::maildir_flag_suffix(m.flags)) != std::string::npos);
            }
            CHECK_FALSE(fs::exists(new_path));
        }
    }
}

// A no-change run skips folders whose cur/, new/ and tmp/ have not changed
// since a run found them clean. Whatever changes them later must still be
// seen: a reader's rename, a tmp/ file a killed writer left.
TEST_CASE("a folder changed after a clean no-change run is looked at again", "[sync][reader]") {
    for (bool leftover : {false, true}) {
        DYNAMIC_SECTION((leftover ? "a tmp/ leftover" : "a reader's rename")) {
            ModelFixture f;
            store::MaildirOptions options;
            options.stamp_settle = std::chrono::milliseconds(50);
            const auto settle = [] { std::this_thread::sleep_for(std::chrono::milliseconds(100)); };
            f.store.messages = store::open_maildir_store(f.dir.path.string(), options);
            f.server.add_mailbox("INBOX");
            f.server.add_mailbox("Box");
            f.server.append("Box", message("one"));
            REQUIRE(report_ok(f.backup()));
            settle();
            REQUIRE(report_ok(f.backup()));  // looks once, finds all clean
            REQUIRE(f.record("Box")->folder_stamp != "");
            settle();

            auto row = f.store.catalog->messages(f.record("Box")->id).at(0);
            fs::path old_path = f.store.messages->absolute(row.file);
            fs::path changed = old_path.parent_path().parent_path() / "tmp" / "leftover";
            if (leftover) {
                std::ofstream(changed) << "half a message";
            } else {
                changed = old_path.parent_path() / (old_path.filename().string() + "S");
                fs::rename(old_path, changed);
            }
            f.store.messages = store::open_maildir_store(f.dir.path.string(), options);
            auto report = f.backup();
            INFO(errors_of(report));
            REQUIRE(report_ok(report));
            CHECK(find_report(report, "Box")->path == "unchanged");
            CHECK_FALSE(fs::exists(changed));
            CHECK(fs::exists(old_path));
        }
    }
}
