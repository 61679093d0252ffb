#include "store/maildir_names.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/util/utf7.hpp>
#include <mutex>
#include <random>
#include <set>
#include <thread>

using namespace imapkeep::store;
namespace fs = std::filesystem;

namespace {

// The folder, put under an account root and normalised, must stay strictly inside it.
void check_contained(const std::string& folder) {
    INFO("folder \"" << folder << "\"");
    CHECK(folder.size() <= kMaxNameBytes);
    CHECK(folder.find('/') == std::string::npos);
    CHECK(folder.find('\0') == std::string::npos);
    for (unsigned char c : folder) CHECK((c >= 0x20 && c != 0x7F));
    if (folder.empty()) return;
    CHECK(folder.front() == '.');
    CHECK(folder != ".");
    CHECK(folder != "..");
    CHECK_NOTHROW(check_folder(folder));
    const fs::path root = "/store/mail/acct";
    const fs::path cur = (root / folder / "cur" / "msg").lexically_normal();
    const auto rel = cur.lexically_relative(root);
    REQUIRE_FALSE(rel.empty());
    CHECK(*rel.begin() == folder);
    CHECK(std::distance(rel.begin(), rel.end()) == 3);
}

// Decodes a folder back to the mailbox name (valid UTF-8 names only).
std::string mailbox_of(const std::string& folder, const std::string& delimiter) {
    if (folder.empty()) return "INBOX";
    std::string name;
    std::size_t pos = 1;
    bool first = true;
    while (true) {
        auto dot = folder.find('.', pos);
        auto level = folder.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
        auto mutf7 = decode_folder_level(level);
        REQUIRE(mutf7);
        auto utf8 = imapkeep::util::utf7_decode(*mutf7);
        REQUIRE(utf8);
        if (!first) name += delimiter;
        name += *utf8;
        first = false;
        if (dot == std::string::npos) return name;
        pos = dot + 1;
    }
}

}  // namespace

TEST_CASE("folder_for maps mailbox names to Maildir++ folders", "[store][maildir]") {
    struct Case {
        std::string mailbox, delimiter, folder;
    };
    const std::vector<Case> cases = {
        {"INBOX", "/", ""},
        {"inbox", "/", ""},
        {"Inbox", "", ""},
        {"A/B", "/", ".A.B"},
        {"A.B", ".", ".A.B"},
        {"a.b", "/", ".a%2Eb"},
        {"a/b", "", ".a%2Fb"},
        {"INBOX/Sub", "/", ".INBOX.Sub"},
        {"inbox.Sub", ".", ".INBOX.Sub"},
        {"../../etc", "/", ".%2E%2E.%2E%2E.etc"},
        {"a/../../b", "/", ".a.%2E%2E.%2E%2E.b"},
        {"..", "/", ".%2E%2E"},
        {".", "/", ".%2E"},
        {".hidden", "/", ".%2Ehidden"},
        {"", "/", ".%"},
        {"A//B", "/", ".A.%.B"},
        {"A/", "/", ".A.%"},
        {"/", "/", ".%.%"},
        {"100%", "/", ".100%25"},
        {"%2E", "/", ".%252E"},
        {"Entwürfe", "/", ".Entw&APw-rfe"},
        {"R&D", "/", ".R&-D"},
        {"~user", "/", ".~user"},
        {"Sent Items", "/", ".Sent Items"},
        {"\xff\xfe", "/", ".%FF%FE"},  // not UTF-8: escaped byte by byte
        {"a\xff/b.c", "/", ".a%FF.b%2Ec"},
        {"x::y", "::", ".x.y"},  // multi-byte delimiter
    };
    auto store = open_maildir_store(
        (std::filesystem::temp_directory_path() / "imapkeep-folder-for-unused").string());
    for (const auto& c : cases) {
        INFO("mailbox \"" << c.mailbox << "\" delimiter \"" << c.delimiter << "\"");
        CHECK(store->folder_for(c.mailbox, c.delimiter) == c.folder);
        check_contained(c.folder);
    }
    std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                                "imapkeep-folder-for-unused");
}

TEST_CASE("folder_for escapes control characters", "[store][maildir]") {
    for (std::string name :
         {std::string("\x01"), std::string("a\x1f"), std::string("\x7f"), std::string("a\0b", 3),
          std::string("tab\there"), std::string("line\r\nbreak")}) {
        const auto folder = folder_for_mailbox(name, "/");
        check_contained(folder);
        // util::utf7_decode refuses NUL (no IMAP name holds one), so no round trip for it.
        if (name.find('\0') == std::string::npos) CHECK(mailbox_of(folder, "/") == name);
    }
}

TEST_CASE("folder_for shortens names longer than a directory entry", "[store][maildir]") {
    const std::string long_a(300, 'a');
    const std::string long_b = long_a + "b";
    const auto a = folder_for_mailbox(long_a, "/");
    const auto b = folder_for_mailbox(long_b, "/");
    CHECK(a.size() == kMaxNameBytes);
    CHECK(b.size() == kMaxNameBytes);
    CHECK(a != b);
    CHECK(a.find('~') == kMaxNameBytes - 17);
    check_contained(a);
    // Many short levels that add up past the limit, each full of escapes.
    std::string deep;
    for (int i = 0; i < 60; ++i) deep += "..../";
    check_contained(folder_for_mailbox(deep, "/"));
}

TEST_CASE("folder_for: random names stay inside and decode back", "[store][maildir]") {
    const std::vector<std::string> pieces = {
        "a",    "Z",     ".", "..", "/",  "%",    "%2E",
        "&",    " ",     "~", "ü",  "日", "\x01", std::string(1, '\0'),
        "\x7f", "INBOX", "-", ":"};
    std::mt19937 rng(20240501);
    std::set<std::pair<std::string, std::string>> seen;
    for (int i = 0; i < 3000; ++i) {
        std::string name;
        const int n = static_cast<int>(rng() % 8);
        for (int k = 0; k < n; ++k) name += pieces[rng() % pieces.size()];
        for (std::string delimiter : {"/", ".", ""}) {
            const auto folder = folder_for_mailbox(name, delimiter);
            check_contained(folder);
            if (folder.empty()) continue;  // INBOX
            if (name.find('\0') == std::string::npos) CHECK(mailbox_of(folder, delimiter) == name);
            // Distinct names of one delimiter never share a folder.
            seen.emplace(delimiter + '\n' + folder, name);
        }
    }
    std::set<std::string> folders;
    for (const auto& [key, name] : seen) folders.insert(key);
    CHECK(folders.size() == seen.size());
}

TEST_CASE("decode_folder_level", "[store][maildir]") {
    CHECK(decode_folder_level("%") == std::string());
    CHECK(decode_folder_level("a%2Eb%25") == std::string("a.b%"));
    CHECK(decode_folder_level("plain") == std::string("plain"));
    CHECK_FALSE(decode_folder_level("%2"));
    CHECK_FALSE(decode_folder_level("a%"));
    CHECK_FALSE(decode_folder_level("%2e"));  // only upper case is ever written
    CHECK_FALSE(decode_folder_level("%G0"));
}

TEST_CASE("check_folder and check_account", "[store][maildir]") {
    for (std::string ok : {"", ".A", ".A.B", ".%2E%2E", ".%"}) CHECK_NOTHROW(check_folder(ok));
    for (std::string bad :
         std::vector<std::string>{".", "..", "A", "./x", ".A/B", "../x", std::string(".a\0b", 4),
                                  "." + std::string(300, 'x')})
        CHECK_THROWS_AS(check_folder(bad), StoreError);
    for (std::string ok : {"work", "me@example.org", "a b"}) CHECK_NOTHROW(check_account(ok));
    for (std::string bad :
         std::vector<std::string>{"", ".", "..", ".hidden", "a/b", std::string("a\0", 2)})
        CHECK_THROWS_AS(check_account(bad), StoreError);
}

TEST_CASE("parse_store_path accepts only the store layout", "[store][maildir]") {
    auto p = parse_store_path("mail/work/.A.B/cur/1700000000.123_4.host,U=5:2,S");
    CHECK(p.tree == "mail");
    CHECK(p.account == "work");
    CHECK(p.folder == ".A.B");
    CHECK(p.sub == "cur");
    CHECK(p.name == "1700000000.123_4.host,U=5:2,S");
    CHECK(p.dir() == "mail/work/.A.B/cur");
    CHECK(p.relative() == "mail/work/.A.B/cur/1700000000.123_4.host,U=5:2,S");
    auto inbox = parse_store_path("attic/work/new/x");
    CHECK(inbox.folder.empty());
    CHECK(inbox.relative() == "attic/work/new/x");

    for (std::string bad :
         {"", "/etc/passwd", "mail/work/cur", "mail/work/../../etc/cur/x", "mail/work/.A/../cur/x",
          "mail/work/A/cur/x", "other/work/cur/x", "mail/.work/cur/x", "mail/work/.A/dir/x",
          "mail//work/cur/x", "mail/work/cur/x/", "mail/work/./cur/x", "mail/work/.A/B/cur/x",
          "mail/work/cur/.."}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_store_path(bad), StoreError);
    }
}

TEST_CASE("unique names and the info suffix", "[store][maildir]") {
    const auto name = unique_name(1700000000);
    CHECK(name.rfind("1700000000.", 0) == 0);
    CHECK(name.find('/') == std::string::npos);
    CHECK(name.find(':') == std::string::npos);
    CHECK(name.find(',') == std::string::npos);

    std::set<std::string> names;
    std::mutex mutex;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 500; ++i) {
                auto n = unique_name(1);
                std::lock_guard lock(mutex);
                names.insert(n);
            }
        });
    for (auto& t : threads) t.join();
    CHECK(names.size() == 2000);

    CHECK(base_name("x,U=5:2,S") == "x,U=5");
    CHECK(base_name("x,U=5") == "x,U=5");
    CHECK(with_info("x,U=5:2,S", "FS") == "x,U=5:2,FS");
    CHECK(with_info("x", "") == "x:2,");
}
