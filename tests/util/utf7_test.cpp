#include <imapkeep/util/utf7.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using imapkeep::util::utf7_decode;
using imapkeep::util::utf7_encode;

TEST_CASE("modified UTF-7 round trip", "[util][utf7]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", ""},
        {"INBOX", "INBOX"},
        {"&", "&-"},
        {"Hello & goodbye", "Hello &- goodbye"},
        {"Entw\xc3\xbc" "rfe", "Entw&APw-rfe"},
        // RFC 3501 §5.1.3 example: ~peter/mail/台北/日本語
        {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
         "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
        {"\xf0\x9f\x98\x80", "&2D3eAA-"},                                   // U+1F600, surrogate pair
        {"x\xf0\x9f\x98\x80y\xe6\x97\xa5\xe6\x9c\xac", "x&2D3eAA-y&ZeVnLA-"},
        {"\xc3\x84&\xc3\xb6", "&AMQ-&-&APY-"},
        {"\t", "&AAk-"},
        {"\xe2\x82\xac" "uro", "&IKw-uro"},
        {"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80",
         "&BB8EQAQ4BDIENQRC- &BDwEOARA-"},
        {"a-b_c.d/e", "a-b_c.d/e"},
    };
    for (const auto& [utf8, mutf7] : cases) {
        INFO(mutf7);
        CHECK(utf7_encode(utf8) == mutf7);
        auto decoded = utf7_decode(mutf7);
        REQUIRE(decoded.has_value());
        CHECK(*decoded == utf8);
    }
}

TEST_CASE("modified UTF-7 decode rejects malformed input", "[util][utf7]") {
    const std::vector<std::string> bad = {
        "&",             // unterminated
        "&APw",          // unterminated shift
        "Entw&APw",
        "&Jjo!-",        // not in the modified base64 alphabet
        "&AP/8-",        // '/' is ',' in modified base64
        "&APw=-",        // no padding allowed
        "&AGE-",         // encodes 'a': printable ASCII must represent itself
        "&ACY-",         // encodes '&'
        "&APx-",         // non-zero trailing bits
        "&AP-",          // too short for one UTF-16 unit
        "&APwA-",        // a superfluous character
        "&2D0-",         // lone high surrogate
        "&3gA-",         // lone low surrogate
        "&2D0AYQ-",      // high surrogate followed by a non-surrogate
        "&AAA-",         // NUL
        "Entw\xc3\xbcrfe",  // raw 8-bit
        "a\tb",          // control character outside a shift
        "&40w-&40w-",    // two runs back to back: not canonical (found by fuzz_utf7)
    };
    for (const auto& text : bad) {
        INFO(text);
        CHECK_FALSE(utf7_decode(text).has_value());
    }
    // "&-" right after a run is a literal "&", which is canonical.
    CHECK(utf7_decode("&APw-&-").has_value());
}

TEST_CASE("modified UTF-7 encode rejects invalid UTF-8", "[util][utf7]") {
    const std::vector<std::string> bad = {
        "\xff",
        "\xc3",              // truncated
        "a\xe6\x97",         // truncated 3-byte
        "\xc0\xaf",          // overlong '/'
        "\xe0\x80\xaf",      // overlong
        "\xed\xa0\x80",      // UTF-16 surrogate
        "\xf4\x90\x80\x80",  // above U+10FFFF
        "\xc3\x28",          // bad continuation
    };
    for (const auto& text : bad) {
        CHECK_THROWS_AS(utf7_encode(text), std::invalid_argument);
    }
}

TEST_CASE("modified UTF-7 round trips every BMP code point class and astral planes", "[util][utf7]") {
    // Each code point alone and between ASCII, encoded then decoded.
    auto utf8 = [](std::uint32_t cp) {
        std::string s;
        if (cp < 0x80) {
            s += static_cast<char>(cp);
        } else if (cp < 0x800) {
            s += static_cast<char>(0xc0 | (cp >> 6));
            s += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            s += static_cast<char>(0xe0 | (cp >> 12));
            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            s += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            s += static_cast<char>(0xf0 | (cp >> 18));
            s += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            s += static_cast<char>(0x80 | (cp & 0x3f));
        }
        return s;
    };
    for (std::uint32_t cp = 1; cp <= 0x10ffff; cp += (cp < 0x800 ? 1 : 97)) {
        if (cp >= 0xd800 && cp <= 0xdfff) continue;
        std::string name = "a" + utf8(cp) + utf8(cp) + "b";
        std::string encoded = utf7_encode(name);
        for (char c : encoded) REQUIRE((c >= 0x20 && c <= 0x7e));
        auto decoded = utf7_decode(encoded);
        INFO("U+" << std::hex << cp);
        REQUIRE(decoded.has_value());
        REQUIRE(*decoded == name);
    }
}
