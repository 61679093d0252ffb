#include <imapkeep/util/md5.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using imapkeep::util::hmac_md5_hex;

TEST_CASE("hmac_md5_hex known vectors", "[util][md5]") {
    struct Case {
        std::string key;
        std::string data;
        std::string hex;
    };
    const std::vector<Case> cases = {
        // RFC 2195 §2 CRAM-MD5 example (the challenge ends in "mci.net")
        {"tanstaaftanstaaf", "<1896.697170952@postoffice.reston.mci.net>",
         "b913a602c7eda7a495b4e6e7334d3890"},
        // RFC 2202 §2 test cases 1, 2, 3 and 6 (key longer than the block)
        {std::string(16, '\x0b'), "Hi There", "9294727a3638bb1c13f48ef8158bfc9d"},
        {"Jefe", "what do ya want for nothing?", "750c783e6ab0b503eaa86e310a5db738"},
        {std::string(16, '\xaa'), std::string(50, '\xdd'), "56be34521d144c88dbb8c733f0e8b3f6"},
        {std::string(80, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
         "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"},
        // Empty key and message (checked against Python's hmac module)
        {"", "", "74e6f7298a9c2d168935f58c001bad88"},
    };
    for (const auto& c : cases) {
        INFO(c.data);
        CHECK(hmac_md5_hex(c.key, c.data) == c.hex);
    }
}
