#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <imapkeep/store/message_reader.hpp>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/util/sha256.hpp>
#include <sstream>

#include "temp_dir.hpp"
#include "test_env.hpp"

using namespace imapkeep::store;
using imapkeep::test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kMessage =
    "From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nline one\r\nline two\n"
    "bare LF above, NUL here: " +
    std::string(1, '\0') + "\r\n";

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> names_in(const std::string& dir) {
    std::vector<std::string> out;
    if (!fs::exists(dir)) return out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    return out;
}

std::string put(MessageStore& store, const std::string& account, const std::string& folder,
                std::uint32_t uid, std::int64_t date, const std::vector<std::string>& flags,
                const std::string& body = kMessage) {
    auto pending = store.begin(account, folder);
    // Odd-sized chunks, so nothing depends on line boundaries.
    for (std::size_t pos = 0; pos < body.size(); pos += 7)
        pending->write(std::string_view(body).substr(pos, 7));
    pending->finish();
    store.sync_pending();
    return store.commit(*pending, account, folder, uid, date, flags);
}

}  // namespace

TEST_CASE("put writes the bytes unchanged, hashed, into cur/", "[store][maildir]") {
    TempDir dir;
    auto store = open_maildir_store(dir.path());
    CHECK(store->root() == dir.path());

    auto pending = store->begin("work", ".A.B");
    pending->write(kMessage.substr(0, 10));
    pending->write(kMessage.substr(10));
    CHECK(pending->size() == kMessage.size());
    CHECK_THROWS_AS(pending->sha256_hex(), StoreError);
    // The file sits in tmp/ until commit.
    CHECK(names_in(dir / "mail/work/.A.B/tmp").size() == 1);
    pending->finish();
    CHECK(pending->sha256_hex() == imapkeep::util::sha256_hex(kMessage));
    CHECK_THROWS_AS(pending->write("late"), StoreError);
    store->sync_pending();

    const std::int64_t date = 1'234'567'890;
    const auto file = store->commit(*pending, "work", ".A.B", 5, date,
                                    {"\\Seen", "\\Answered", "$Work", "\\Recent"});
    INFO(file);
    // Before anything reads the file (a read may update atime).
    struct stat st {};
    REQUIRE(::stat(store->absolute(file).c_str(), &st) == 0);
    CHECK(st.st_mtim.tv_sec == date);
    CHECK(st.st_atim.tv_sec == date);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(file.rfind("mail/work/.A.B/cur/", 0) == 0);
    CHECK(file.find(",U=5:2,RS") == file.size() - 9);
    CHECK(names_in(dir / "mail/work/.A.B/tmp").empty());
    CHECK(store->absolute(file) == dir / file);
    CHECK(read_all(store->absolute(file)) == kMessage);
    CHECK(imapkeep::util::sha256_file_hex(store->absolute(file)) == pending->sha256_hex());
    CHECK_THROWS_AS(store->commit(*pending, "work", ".A.B", 5, date, {}), StoreError);

    // Maildir++ shape: the root (INBOX) and the folder, each with cur/new/tmp,
    // and the maildirfolder marker only in the sub-folder.
    for (std::string d : {"mail/work", "mail/work/.A.B"})
        for (std::string sub : {"cur", "new", "tmp"})
            CHECK(fs::is_directory(dir / (d + "/" + sub)));
    CHECK(fs::exists(dir / "mail/work/.A.B/maildirfolder"));
    CHECK_FALSE(fs::exists(dir / "mail/work/maildirfolder"));
}

TEST_CASE("fsync now or deferred; discard and destruction clean tmp/", "[store][maildir]") {
    TempDir dir;
    for (bool defer : {true, false}) {
        INFO("defer " << defer);
        auto store = open_maildir_store(dir.path(), {defer, nullptr});
        // Committing without sync_pending() still works: commit fsyncs what is left.
        auto pending = store->begin("acc", "");
        pending->write("x");
        pending->finish();
        const auto file = store->commit(*pending, "acc", "", 1, 0, {});
        CHECK(read_all(store->absolute(file)) == "x");

        auto dropped = store->begin("acc", "");
        dropped->write("y");
        dropped->discard();
        CHECK(names_in(dir / "mail/acc/tmp").empty());
        {
            auto abandoned = store->begin("acc", "");
            abandoned->write("z");
            abandoned->finish();
        }
        CHECK(names_in(dir / "mail/acc/tmp").empty());
        store->sync_pending();  // the queued, now deleted file is skipped
        store->remove(file);
    }
}

TEST_CASE("flags rename, attic, folder moves and removal", "[store][maildir]") {
    TempDir dir;
    auto store = open_maildir_store(dir.path());
    const auto file = put(*store, "work", ".Sent", 9, 1000, {"\\Seen"});
    CHECK(file.find(",U=9:2,S") != std::string::npos);

    const auto flagged = store->set_flags(file, {"\\Seen", "\\Flagged", "\\Draft"});
    CHECK(flagged.substr(0, flagged.find(":2,")) == file.substr(0, file.find(":2,")));
    CHECK(flagged.substr(flagged.find(":2,")) == ":2,DFS");
    CHECK_FALSE(fs::exists(store->absolute(file)));
    CHECK(read_all(store->absolute(flagged)) == kMessage);
    CHECK(store->set_flags(flagged, {"\\Draft", "\\Seen", "\\Flagged"}) == flagged);  // no change
    // A rename already done by a run that then crashed counts as done.
    CHECK(store->set_flags(file, {"\\Seen", "\\Flagged", "\\Draft"}) == flagged);

    const auto moved = store->move_to_folder(flagged, "work", ".Archive");
    CHECK(moved.rfind("mail/work/.Archive/cur/", 0) == 0);
    CHECK(fs::exists(dir / "mail/work/.Archive/maildirfolder"));
    CHECK(read_all(store->absolute(moved)) == kMessage);
    CHECK(store->move_to_folder(moved, "work", ".Archive") == moved);

    const auto attic = store->move_to_attic(moved);
    CHECK(attic == "attic" + moved.substr(4));
    CHECK_FALSE(fs::exists(store->absolute(moved)));
    CHECK(read_all(store->absolute(attic)) == kMessage);
    for (std::string sub : {"cur", "new", "tmp"})
        CHECK(fs::is_directory(dir / ("attic/work/" + sub)));
    CHECK(fs::exists(dir / "attic/work/.Archive/maildirfolder"));
    CHECK(store->move_to_attic(attic) == attic);               // already there: done
    CHECK(store->move_to_attic(moved) == attic);               // resumed after a crash
    CHECK_THROWS_AS(store->set_flags("mail/work/cur/none:2,", {"\\Seen"}), StoreError);
    // The mtime survives renames.
    struct stat st {};
    REQUIRE(::stat(store->absolute(attic).c_str(), &st) == 0);
    CHECK(st.st_mtim.tv_sec == 1000);

    store->remove(attic);
    CHECK_FALSE(fs::exists(store->absolute(attic)));
    CHECK_NOTHROW(store->remove(attic));  // already gone

    // Deleted mailbox: the folder goes once empty, never INBOX.
    const auto kept = put(*store, "work", ".Old", 1, 0, {});
    CHECK_FALSE(store->remove_folder("work", ".Old"));
    CHECK(fs::exists(store->absolute(kept)));
    store->move_to_attic(kept);
    std::ofstream(dir / "mail/work/.Old/dovecot-uidlist") << "3 V1 N2\n";
    CHECK(store->remove_folder("work", ".Old"));
    CHECK_FALSE(fs::exists(dir / "mail/work/.Old"));
    CHECK(store->remove_folder("work", ".Old"));  // nothing left to do
    CHECK_FALSE(store->remove_folder("work", ""));
    // The folder is created again on the next put.
    CHECK(fs::exists(store->absolute(put(*store, "work", ".Old", 2, 0, {}))));
}

TEST_CASE("paths and names that could leave the store are refused", "[store][maildir]") {
    TempDir dir;
    auto store = open_maildir_store(dir / "store");
    for (std::string folder : {"..", ".", "A", "./x", ".a/../../.."})
        CHECK_THROWS_AS(store->begin("work", folder), StoreError);
    for (std::string account : {"..", "", ".x", "a/b"})
        CHECK_THROWS_AS(store->begin(account, ""), StoreError);
    for (std::string file :
         {"../x", "/etc/passwd", "mail/work/../../../etc/cur/passwd", "mail/work/cur"}) {
        INFO(file);
        CHECK_THROWS_AS(store->absolute(file), StoreError);
        CHECK_THROWS_AS(store->set_flags(file, {"\\Seen"}), StoreError);
        CHECK_THROWS_AS(store->move_to_attic(file), StoreError);
        CHECK_THROWS_AS(store->remove(file), StoreError);
    }
    CHECK(names_in(dir.path()) == std::vector<std::string>{"store"});
}

TEST_CASE("clean_tmp removes leftovers but not messages being written", "[store][maildir]") {
    TempDir dir;
    auto store = open_maildir_store(dir.path());
    put(*store, "work", "", 1, 0, {});
    put(*store, "work", ".A", 1, 0, {});
    auto live = store->begin("work", ".A");
    live->write("in progress");
    // Leftovers of a killed run, in the live tree and in the attic.
    std::ofstream(dir / "mail/work/tmp/1.1_1.host") << "partial";
    std::ofstream(dir / "mail/work/.A/tmp/1.1_2.host") << "partial";
    fs::create_directories(dir / "attic/work/.B/tmp");
    std::ofstream(dir / "attic/work/.B/tmp/1.1_3.host") << "partial";

    CHECK(store->clean_tmp("work") == 3);
    CHECK(names_in(dir / "mail/work/tmp").empty());
    CHECK(names_in(dir / "mail/work/.A/tmp").size() == 1);
    CHECK(names_in(dir / "mail/work/cur").size() == 1);
    CHECK(store->clean_tmp("work") == 0);
    CHECK(store->clean_tmp("nobody") == 0);
    live->finish();
    CHECK(store->commit(*live, "work", ".A", 2, 0, {}).find(",U=2:2,") != std::string::npos);
}

TEST_CASE("a 50 MB message streams in 1 MiB chunks", "[store][maildir]") {
    TempDir dir;
    auto store = open_maildir_store(dir.path());
    std::string chunk(1 << 20, '\0');
    for (std::size_t i = 0; i < chunk.size(); ++i)
        chunk[i] = static_cast<char>(i % 78 == 76 ? '\r' : i % 78 == 77 ? '\n' : 'A' + i % 26);
    imapkeep::util::Sha256 expected;
    auto pending = store->begin("big", "");
    for (int i = 0; i < 50; ++i) {
        chunk[0] = static_cast<char>('a' + i % 26);  // every chunk differs
        pending->write(chunk);
        expected.update(chunk);
    }
    pending->finish();
    store->sync_pending();
    const auto file = store->commit(*pending, "big", "", 1, 0, {});
    CHECK(pending->size() == 50u << 20);
    // Pure CRLF (one pair per 78 bytes): stored with LF, one byte less per line.
    CHECK(pending->line_endings() == LineEndings::Lf);
    const std::uint64_t lines = 50 * ((1u << 20) / 78);
    CHECK(fs::file_size(store->absolute(file)) == (50u << 20) - lines);
    const auto digest = expected.hex_digest();
    CHECK(pending->sha256_hex() == digest);
    const auto original = digest_original(store->absolute(file), pending->line_endings());
    CHECK(original.size == 50u << 20);
    CHECK(original.sha256 == digest);
}

TEST_CASE("Dovecot reads the tree", "[store][maildir][dovecot]") {
    // Optional: runs Dovecot's imap binary pre-authenticated on the tree (no
    // server, no user database) where it is installed.
    const std::string imap = "/usr/lib/dovecot/imap";
    if (::access(imap.c_str(), X_OK) != 0) {
        // Installed by scripts/deps.sh: required under the test command.
        if (imapkeep::testing::servers_required()) FAIL(imap << " is not installed");
        WARN("SKIPPED: " << imap << " not installed");
        return;
    }
    TempDir dir;
    auto store = open_maildir_store(dir.path());
    const std::string folder = store->folder_for("Archiv/Entwürfe", "/");
    // Plain CRLF text: Dovecot rewrites NUL (and bare LF) when it serves a body.
    const std::string body = "From: a@example.org\r\nSubject: Dovecot\r\n\r\nHello\r\n";
    put(*store, "u", "", 1, 1'600'000'000, {"\\Seen", "\\Answered"}, body);
    put(*store, "u", folder, 1, 1'600'000'000, {});
    put(*store, "u", folder, 2, 1'600'000'000, {"\\Flagged"});

    // Dovecot never serves mail as root: hand the tree to nobody then.
    std::string uid_options;
    if (::geteuid() == 0) {
        REQUIRE(std::system(("chown -R nobody:nogroup " + dir.path()).c_str()) == 0);
        uid_options = " -o mail_uid=nobody -o mail_gid=nogroup";
    }
    const std::string conf = dir / "dovecot.conf";
    std::ofstream(conf) << "mail_location = maildir:" << dir.path() << "/mail/u\n"
                        << "base_dir = " << dir.path() << "/run\n"
                        << "log_path = /dev/null\nssl = no\n";
    std::ofstream(dir / "commands") << "a LIST \"\" \"*\"\r\n"
                                       "b STATUS \"Archiv.Entw&APw-rfe\" (MESSAGES)\r\n"
                                       "c EXAMINE INBOX\r\n"
                                       "d FETCH 1 (FLAGS INTERNALDATE BODY.PEEK[])\r\n"
                                       "e LOGOUT\r\n";
    // A pipe, not "<": Dovecot polls its input with epoll, which refuses plain files.
    const std::string cmd = "cat " + (dir / "commands") + " | env -i HOME=" + dir.path() +
                            " USER=u PATH=/usr/bin:/bin timeout 20 " + imap + " -c " + conf +
                            uid_options + " > " + (dir / "out") + " 2>&1";
    const int rc = std::system(cmd.c_str());
    const std::string out = read_all(dir / "out");
    INFO(cmd << "\n" << out);
    REQUIRE(rc == 0);
    CHECK_THAT(out, Catch::Contains("* LIST (\\HasNoChildren) \".\" Archiv.Entw&APw-rfe"));
    CHECK_THAT(out, Catch::Contains("* STATUS Archiv.Entw&APw-rfe (MESSAGES 2)"));
    CHECK_THAT(out, Catch::Contains("INTERNALDATE \"13-Sep-2020 12:26:40 +0000\""));
    CHECK_THAT(out, Catch::Contains("\\Answered \\Seen"));
    CHECK_THAT(out, Catch::Contains("{" + std::to_string(body.size()) + "}\r\n" + body + ")"));
    CHECK_THAT(out, Catch::Contains("e OK"));
}

TEST_CASE("locate finds a file after an interrupted rename", "[store][maildir]") {
    TempDir dir;
    auto store = open_maildir_store(dir.path());
    const auto file = put(*store, "work", ".A", 3, 0, {});
    CHECK(store->locate(file) == file);

    // Flags renamed on disk, catalog not updated (killed in between).
    const auto flagged = store->set_flags(file, {"\\Seen"});
    CHECK(store->locate(file) == flagged);
    // Moved to the attic, catalog not updated.
    const auto attic = store->move_to_attic(flagged);
    CHECK(store->locate(file) == attic);
    CHECK(store->locate(flagged) == attic);
    // A mail reader moved it to new/ (it only ever reads cur/ names it wrote).
    fs::create_directories(dir / "mail/work/.A/new");
    const auto in_new = "mail/work/.A/new/" + attic.substr(attic.rfind('/') + 1);
    fs::rename(store->absolute(attic), dir / in_new);
    CHECK(store->locate(file) == in_new);
    // Nothing with that base name: the path comes back unchanged.
    CHECK(store->locate("mail/work/.A/cur/nothing,U=1:2,S") == "mail/work/.A/cur/nothing,U=1:2,S");
    CHECK(store->locate("mail/work/.Missing/cur/x:2,") == "mail/work/.Missing/cur/x:2,");
    CHECK_THROWS_AS(store->locate("../x"), StoreError);
}

TEST_CASE("rename_folder and path_in_folder", "[store][maildir]") {
    TempDir dir;
    auto store = open_maildir_store(dir.path());
    CHECK(store->path_in_folder("mail/work/.A/cur/n:2,S", "work", ".B") ==
          "mail/work/.B/cur/n:2,S");
    CHECK(store->path_in_folder("attic/work/cur/n", "work", ".B") == "attic/work/.B/cur/n");
    CHECK(store->path_in_folder("mail/work/.A/cur/n", "work", "") == "mail/work/cur/n");
    CHECK_THROWS_AS(store->path_in_folder("mail/work/.A/cur/n", "work", ".."), StoreError);

    // Plain case: one directory rename.
    const auto a1 = put(*store, "work", ".A", 1, 0, {});
    const auto a2 = put(*store, "work", ".A", 2, 0, {"\\Seen"});
    store->rename_folder("work", ".A", ".B");
    CHECK_FALSE(fs::exists(dir / "mail/work/.A"));
    for (const auto& f : {a1, a2})
        CHECK(read_all(store->absolute(store->path_in_folder(f, "work", ".B"))) == kMessage);
    CHECK(fs::exists(dir / "mail/work/.B/maildirfolder"));
    CHECK_NOTHROW(store->rename_folder("work", ".A", ".B"));  // resumed: already done
    // The old folder can be used again afterwards (the store forgot it existed).
    CHECK(fs::exists(store->absolute(put(*store, "work", ".A", 9, 0, {}))));

    // Target exists: messages merge, the source goes.
    const auto c1 = put(*store, "work", ".C", 1, 0, {});
    store->rename_folder("work", ".C", ".B");
    CHECK_FALSE(fs::exists(dir / "mail/work/.C"));
    CHECK(fs::exists(store->absolute(store->path_in_folder(c1, "work", ".B"))));
    CHECK(names_in(dir / "mail/work/.B/cur").size() == 3);

    // Renaming INBOX moves its messages and leaves it empty (RFC 3501 §6.3.5).
    const auto i1 = put(*store, "work", "", 1, 0, {});
    store->rename_folder("work", "", ".Old INBOX");
    CHECK(names_in(dir / "mail/work/cur").empty());
    CHECK(fs::exists(store->absolute(store->path_in_folder(i1, "work", ".Old INBOX"))));
    CHECK_THROWS_AS(store->rename_folder("work", ".B", ""), StoreError);
    CHECK_THROWS_AS(store->rename_folder("work", ".B", "../x"), StoreError);
}

TEST_CASE("set_uid renames ,U=; locate and orphan removal see through it", "[store][maildir]") {
    TempDir dir;
    auto store = open_maildir_store(dir.path());
    const std::string folder = store->folder_for("Box", "/");
    auto file = put(*store, "acct", folder, 5, 1700000000, {"\\Seen"});
    CHECK(file.find(",U=5:2,S") != std::string::npos);

    auto renamed = store->set_uid(file, 42);
    store->sync_committed();
    CHECK(renamed.find(",U=42:2,S") != std::string::npos);
    CHECK(fs::exists(store->absolute(renamed)));
    CHECK_FALSE(fs::exists(store->absolute(file)));
    // A run killed before cataloging the new name still finds the file.
    CHECK(store->locate(file) == renamed);

    // An uncataloged file goes; the renamed one counts as known by its old name.
    auto orphan = put(*store, "acct", folder, 6, 1700000001, {});
    CHECK(store->remove_unknown_files("acct", folder, {file}) == 1);
    CHECK(fs::exists(store->absolute(renamed)));
    CHECK_FALSE(fs::exists(store->absolute(orphan)));
    CHECK(store->remove_unknown_files("acct", folder, {renamed}) == 0);
}

// The Maildir side of open_read's contract (the rest is in
// message_store_contract_test.cpp, for every store).
TEST_CASE("open_read follows a crash rename only when asked, and says where it read",
          "[store][maildir][read]") {
    TempDir dir;
    auto store = open_maildir_store(dir.path());
    const std::string file = put(*store, "work", ".A", 1, 0, {});
    // A run killed after set_flags' rename, before its catalog commit.
    const std::string moved = file.substr(0, file.size() - 1) + "S";
    fs::rename(store->absolute(file), store->absolute(moved));
    const MessageRef ref{file, "", LineEndings::Wire};
    auto source = store->open_read(ref);
    CHECK(source->file() == moved);
    std::string got;
    for_each_piece(*source, [&](std::string_view piece) { got.append(piece); });
    CHECK(got == kMessage);
    CHECK_THROWS_AS(store->open_read(ref, ReadLookup::Exact), MessageMissing);
}

TEST_CASE("open_read tells a file it cannot read from a missing one", "[store][maildir][read]") {
    TempDir dir;
    auto store = open_maildir_store(dir.path());
    const std::string file = put(*store, "work", "", 1, 0, {});
    // A directory where the file was: open(2) succeeds, read(2) fails (EISDIR).
    fs::remove(store->absolute(file));
    fs::create_directory(store->absolute(file));
    auto not_missing = [](auto&& read) {
        try {
            read();
        } catch (const MessageMissing& e) {
            FAIL("reported as missing: " << e.what());
        } catch (const StoreError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    for (auto lookup : {ReadLookup::FollowRenames, ReadLookup::Exact}) {
        const auto error = not_missing([&] {
            auto source = store->open_read({file, "", LineEndings::Lf}, lookup);
            source->next();
        });
        CHECK_THAT(error, Catch::Contains("cannot read") && Catch::Contains(store->absolute(file)));
    }
    // A key that is none of the store's is refused, not "missing".
    CHECK_FALSE(not_missing([&] { store->open_read({"mail/../../etc/passwd", "", LineEndings::Wire}); }).empty());
}
