// Gmail labels outside Gmail: mailbox names and Takeout's mbox header.
#include "archive/label_names.hpp"

#include <catch2/catch.hpp>

using namespace imapkeep::archive::detail;

TEST_CASE("label names: folders and Takeout's names", "[archive][gmail]") {
    struct Case {
        const char* label;
        const char* folder;
        const char* takeout;
    } cases[] = {
        {"\\Inbox", "INBOX", "Inbox"},
        {"\\Sent", "Sent", "Sent"},
        {"\\Draft", "Draft", "Drafts"},
        {"\\Important", "Important", "Important"},
        {"\\Starred", "Starred", "Starred"},
        {"Travel/2024", "Travel/2024", "Travel/2024"},
        {"&AMQ-lter", "\xc3\x84lter", "\xc3\x84lter"},
        {"&-broken&", "&-broken&", "&-broken&"},  // no modified UTF-7: its bytes
    };
    for (const auto& c : cases) {
        INFO(c.label);
        CHECK(label_folder_name(c.label) == c.folder);
        CHECK(takeout_label(c.label) == c.takeout);
    }
}

TEST_CASE("takeout_headers: system labels first, CSV fields, no header injection",
          "[archive][gmail]") {
    struct Case {
        std::uint64_t thread;
        std::vector<std::string> labels;
        const char* headers;
    } cases[] = {
        {7, {"Work", "\\Inbox"}, "X-GM-THRID: 7\r\nX-Gmail-Labels: Inbox,Work\r\n"},
        {0, {"a,b", "say \"hi\""}, "X-Gmail-Labels: \"a,b\",\"say \"\"hi\"\"\"\r\n"},
        {1, {}, "X-GM-THRID: 1\r\nX-Gmail-Labels: \r\n"},
        {0, {"x\r\nBcc: evil@example.org"}, "X-Gmail-Labels: x  Bcc: evil@example.org\r\n"},
    };
    for (const auto& c : cases) {
        INFO(c.headers);
        CHECK(takeout_headers(c.thread, c.labels) == c.headers);
    }
}
