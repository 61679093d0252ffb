#include "archive/restore_labels.hpp"

#include <catch2/catch.hpp>

using namespace imapkeep::archive::detail;

TEST_CASE("a Gmail label as a keyword is an atom", "[archive][restore][gmail]") {
    struct Case {
        const char* label;
        const char* keyword;
    };
    const Case cases[] = {
        {"\\Inbox", "$Inbox"},
        {"\\Important", "$Important"},
        {"Work", "Work"},
        {"Travel/2024", "Travel/2024"},
        {"My label", "My_label"},
        {"[Imap]/Old", "[Imap_/Old"},
        {"a(b)c", "a_b_c"},
        {"x\"y%z*", "x_y_z_"},
        {"\\", "$_"},
        {"", "_"},
    };
    for (const auto& c : cases) {
        INFO(c.label);
        CHECK(label_keyword(c.label) == c.keyword);
    }
}

TEST_CASE("X-GM-LABELS lists for STORE: system labels bare, others quoted, nothing unsafe",
          "[archive][restore][gmail]") {
    CHECK(label_list({"\\Inbox", "Work", "My \"big\" label", "back\\slash"}) ==
          "(\\Inbox \"Work\" \"My \\\"big\\\" label\" \"back\\\\slash\")");
    CHECK(label_list({}) == "()");
    CHECK_FALSE(label_list({"bad\r\nA1 DELETE INBOX"}));
    CHECK_FALSE(label_list({std::string("nul\0x", 5)}));
    CHECK_FALSE(label_list({"caf\xc3\xa9"}));
    // A "\" label that is no atom is sent quoted, not bare.
    CHECK(label_list({"\\Not an atom"}) == "(\"\\\\Not an atom\")");
}
