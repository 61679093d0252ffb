// MessageStore::folder_stamp: what lets a no-change run skip a folder. It must
// change with every entry added, removed or renamed in cur/, new/ or tmp/,
// and never vouch for a directory that changed within the settle time.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <imapkeep/store/message_store.hpp>
#include <thread>

#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::TempDir;
namespace fs = std::filesystem;

namespace {

MaildirOptions settling_in(int ms) {
    MaildirOptions options;
    options.stamp_settle = std::chrono::milliseconds(ms);
    return options;
}

void wait_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

TEST_CASE("folder_stamp changes with every entry of cur/, new/ and tmp/", "[store][stamp]") {
    TempDir dir;
    auto store = open_maildir_store(dir.path(), settling_in(50));
    store->create_folder("work", ".A");
    const std::string a = dir / "mail/work/.A";
    std::ofstream(a + "/cur/1.x,U=1:2,") << "one";
    std::ofstream(a + "/new/2.x") << "two";

    const std::vector<std::pair<const char*, std::function<void()>>> changes = {
        {"a reader's flag rename",
         [&] { fs::rename(a + "/cur/1.x,U=1:2,", a + "/cur/1.x,U=1:2,S"); }},
        {"new/ to cur/", [&] { fs::rename(a + "/new/2.x", a + "/cur/2.x:2,S"); }},
        {"a tmp/ leftover", [&] { std::ofstream(a + "/tmp/3.x") << "half"; }},
        {"a removed tmp/ file", [&] { fs::remove(a + "/tmp/3.x"); }},
        {"a file added to new/", [&] { std::ofstream(a + "/new/4.x") << "four"; }},
        {"a folder made anew",
         [&] {
             fs::rename(a, a + ".old");
             fs::create_directories(a + "/cur");
             fs::create_directories(a + "/new");
             fs::create_directories(a + "/tmp");
         }},
    };
    for (const auto& [what, change] : changes) {
        INFO(what);
        wait_ms(100);
        const auto before = store->folder_stamp("work", ".A");
        REQUIRE(before != "");
        CHECK(store->folder_stamp("work", ".A") == before);
        change();
        wait_ms(100);
        CHECK(store->folder_stamp("work", ".A") != before);
    }
}

TEST_CASE("folder_stamp does not vouch for a folder just changed or missing", "[store][stamp]") {
    TempDir dir;
    auto store = open_maildir_store(dir.path());  // the default settle time, seconds
    store->create_folder("work", "");
    CHECK(store->folder_stamp("work", "") == "");
    CHECK(store->folder_stamp("work", ".Missing") == "");
    fs::remove_all(dir / "mail/work/tmp");
    auto quick = open_maildir_store(dir.path(), settling_in(0));
    CHECK(quick->folder_stamp("work", "") == "");
}

TEST_CASE("clean_folder_tmp removes one folder's leftovers only", "[store][stamp]") {
    TempDir dir;
    auto store = open_maildir_store(dir.path());
    store->create_folder("work", ".A");
    store->create_folder("work", ".B");
    auto live = store->begin("work", ".A");
    std::ofstream(dir / "mail/work/.A/tmp/1.1_1.host") << "partial";
    std::ofstream(dir / "mail/work/.B/tmp/1.1_2.host") << "partial";
    CHECK(store->clean_folder_tmp("work", ".A") == 1);
    CHECK(fs::exists(dir / "mail/work/.B/tmp/1.1_2.host"));
    CHECK(store->clean_folder_tmp("work", ".A") == 0);  // the live one stays
    live->discard();
    CHECK_THROWS_AS(store->clean_folder_tmp("work", "../x"), StoreError);
}

TEST_CASE("a stamp taken right after writes tells a change made the moment it returns",
          "[store][stamp]") {
    // folder_stamp_after_writes waits only until the coarse clock, which
    // stamps directory changes, has passed the folder's latest change: any
    // change after it returns must leave another stamp. Many rounds, so a
    // change landing in the same clock tick as the stamp would show.
    TempDir dir;
    auto store = open_maildir_store(dir.path(), settling_in(50));
    store->create_folder("work", ".A");
    const std::string a = dir / "mail/work/.A";
    int vouched = 0;
    for (int round = 0; round < 60; ++round) {
        INFO("round " << round);
        const std::string name = a + "/cur/" + std::to_string(round) + ".x,U=1:2,";
        std::ofstream(name) << "one";
        const auto started = std::chrono::steady_clock::now();
        const auto stamp = store->folder_stamp_after_writes("work", ".A");
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(100));
        if (stamp.empty()) continue;
        ++vouched;
        fs::rename(name, name + "S");
        CHECK_FALSE(store->folder_unchanged("work", ".A", stamp));
    }
    CHECK(vouched > 50);
}
