// Token and device endpoint answers (src/cli/oauth2_reply.cpp), table-driven.
#include "cli/oauth2_reply.hpp"

#include <catch2/catch.hpp>

using namespace imapkeep::cli;
using std::chrono::seconds;

TEST_CASE("token endpoint answers: success, RFC 6749 errors, and what is not an answer", "[oauth2]") {
    struct Case {
        const char* what;
        long status;
        std::string body;
        std::string access, refresh, error;
        seconds expires_in;
    };
    const std::vector<Case> cases = {
        {"success", 200, R"({"access_token":"A","token_type":"Bearer","expires_in":3599,"refresh_token":"R"})", "A", "R", "",
         seconds(3599)},
        {"no refresh token (Google keeps the old one)", 200, R"({"access_token":"A","expires_in":3600})", "A", "", "",
         seconds(3600)},
        {"expires_in as a string", 200, R"({"access_token":"A","expires_in":"3600"})", "A", "", "", seconds(3600)},
        {"no expires_in", 200, R"({"access_token":"A"})", "A", "", "", seconds(0)},
        {"negative expires_in is ignored", 200, R"({"access_token":"A","expires_in":-5})", "A", "", "", seconds(0)},
        {"invalid_grant", 400, R"({"error":"invalid_grant","error_description":"Bad Request"})", "", "", "invalid_grant",
         seconds(0)},
        {"error with status 200", 200, R"({"error":"authorization_pending"})", "", "", "authorization_pending", seconds(0)},
        {"HTML error page", 502, "<html>Bad Gateway</html>", "", "", "invalid_response", seconds(0)},
        {"JSON array", 200, "[1]", "", "", "invalid_response", seconds(0)},
        {"empty body", 200, "", "", "", "invalid_response", seconds(0)},
        {"no access token", 200, R"({"token_type":"Bearer"})", "", "", "invalid_response", seconds(0)},
        {"error of the wrong type", 400, R"({"error":42})", "", "", "invalid_response", seconds(0)},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        auto r = parse_token_reply({c.status, c.body});
        CHECK(r.access_token == c.access);
        CHECK(r.refresh_token == c.refresh);
        CHECK(r.error == c.error);
        CHECK(r.expires_in == c.expires_in);
        CHECK(r.ok() == c.error.empty());
        CHECK(r.status == c.status);
    }
}

TEST_CASE("an error description is made printable and capped", "[oauth2]") {
    auto r = parse_token_reply({400, R"({"error":"invalid_grant","error_description":"line\u001b[31m)" +
                                         std::string(300, 'x') + "\"}"});
    CHECK(r.error == "invalid_grant");
    CHECK(r.error_description.find('\x1b') == std::string::npos);
    CHECK(r.error_description.size() <= 203);
}

TEST_CASE("device endpoint answers (RFC 8628 §3.2)", "[oauth2][auth]") {
    auto ok = parse_device_reply(
        {200, R"({"device_code":"D","user_code":"U","verification_uri":"https://v","verification_uri_complete":"https://v?c=U","expires_in":900,"interval":7})"});
    REQUIRE(ok.grant);
    CHECK(ok.grant->verification_uri_complete == "https://v?c=U");
    CHECK(ok.grant->expires_in == seconds(900));
    CHECK(ok.grant->interval == seconds(7));
    auto defaults = parse_device_reply({200, R"({"device_code":"D","user_code":"U","verification_uri":"https://v"})"});
    REQUIRE(defaults.grant);
    CHECK(defaults.grant->interval == seconds(5));
    CHECK(defaults.grant->expires_in == seconds(600));
    auto zero = parse_device_reply({200, R"({"device_code":"D","user_code":"U","verification_uri":"https://v","interval":0})"});
    REQUIRE(zero.grant);
    CHECK(zero.grant->interval == seconds(1));  // never a busy loop
    CHECK(parse_device_reply({400, R"({"error":"invalid_scope"})"}).error == "invalid_scope");
    CHECK(parse_device_reply({200, R"({"user_code":"U"})"}).error == "invalid_response");
}
