#include <imapkeep/util/base64.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using imapkeep::util::base64_decode;
using imapkeep::util::base64_encode;

TEST_CASE("base64 RFC 4648 §10 test vectors round trip", "[util][base64]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
        {std::string("\0user\0pass", 10), "AHVzZXIAcGFzcw=="},  // SASL PLAIN
        {"\xff\xfe\xfd", "//79"},
    };
    for (const auto& [plain, encoded] : cases) {
        INFO(encoded);
        CHECK(base64_encode(plain) == encoded);
        auto decoded = base64_decode(encoded);
        REQUIRE(decoded.has_value());
        CHECK(*decoded == plain);
    }
}

TEST_CASE("base64 long input has no line breaks", "[util][base64]") {
    std::string data;
    for (int i = 0; i < 1000; ++i) data += static_cast<char>(i * 7);
    std::string encoded = base64_encode(data);
    CHECK(encoded.find('\n') == std::string::npos);
    CHECK(encoded.size() == 4 * ((data.size() + 2) / 3));
    CHECK(base64_decode(encoded) == data);
}

TEST_CASE("base64 rejects malformed input", "[util][base64]") {
    const std::vector<std::string> bad = {
        "Zg",        // missing padding
        "Zg=",       // short
        "Z===",      // three pads
        "====",
        "Zg=a",      // pad in the middle
        "Z=g=",
        "Zm9v!mFy",  // bad character
        "Zm9v YmFy",
        " Zm9v",
        "Zm9v\n",
        "Zm9vYmFy=",
        "Zm8=Zm8=",  // padding before the end
    };
    for (const auto& text : bad) {
        INFO(text);
        CHECK_FALSE(base64_decode(text).has_value());
    }
}
