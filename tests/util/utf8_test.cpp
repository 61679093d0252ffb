#include <imapkeep/util/utf8.hpp>

#include <catch2/catch.hpp>

using imapkeep::util::printable_utf8;

TEST_CASE("printable_utf8 keeps valid UTF-8 and replaces the rest", "[util][utf8]") {
    struct Case {
        std::string in;
        std::string out;
    };
    const std::string r = "\xEF\xBF\xBD";
    const Case cases[] = {
        {"INBOX", "INBOX"},
        {"Entw\xC3\xBC" "rfe", "Entw\xC3\xBC" "rfe"},     // ü
        {"\xF0\x9F\x93\xA7 mail", "\xF0\x9F\x93\xA7 mail"},  // 4 bytes
        {"Entw\xFC" "rfe", "Entw" + r + "rfe"},            // Latin-1 byte
        {"\xC4\xF8^\x89kU", r + r + "^" + r + "kU"},      // Quirk(Cyrus 3.6) MAILBOXID
        {"\xC0\xAF", r + r},                                // overlong '/'
        {"\xED\xA0\x80", r + r + r},                        // surrogate
        {"\xF4\x90\x80\x80", r + r + r + r},                // above U+10FFFF
        {"\xE2\x82", r + r},                                // cut short
        {"a\r\nb", "a\\x0D\\x0Ab"},                         // a forged log line
        {"bell\x07\x1B[2J", "bell\\x07\\x1B[2J"},           // terminal control
        {"tab\tok", "tab\tok"},
        {std::string("nul\0x", 5), "nul\\x00x"},
        {"del\x7F", "del\\x7F"},
    };
    for (const auto& c : cases) {
        INFO(c.in);
        CHECK(printable_utf8(c.in) == c.out);
    }
}
