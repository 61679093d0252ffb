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
    auto sent = [](const std::vector<std::string>& labels) {
        auto change = label_store(labels);
        return change ? change->to_string() : "";
    };
    CHECK(sent({"\\Inbox", "Work", "My \"big\" label", "back\\slash"}) ==
          "+X-GM-LABELS.SILENT (\\Inbox \"Work\" \"My \\\"big\\\" label\" \"back\\\\slash\")");
    CHECK(sent({}) == "+X-GM-LABELS.SILENT ()");
    CHECK_FALSE(label_store({"bad\r\nA1 DELETE INBOX"}));
    CHECK_FALSE(label_store({std::string("nul\0x", 5)}));
    CHECK_FALSE(label_store({"caf\xc3\xa9"}));
    // A "\" label that is no atom is sent quoted, not bare.
    CHECK(sent({"\\Not an atom"}) == "+X-GM-LABELS.SILENT (\"\\\\Not an atom\")");
}
