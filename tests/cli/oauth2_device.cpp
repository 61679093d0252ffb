// The RFC 8628 device flow (src/cli/oauth2_device.cpp) against an in-memory
// endpoint; the waits are recorded, not slept.
#include "cli/oauth2_device.hpp"

#include "cli/oauth2_token.hpp"
#include "oauth2_fake_endpoint.hpp"

#include <catch2/catch.hpp>

#include <sstream>

using namespace imapkeep::cli;
using cli_test::FakeEndpoint;
using cli_test::token_json;
using std::chrono::seconds;

namespace {

const char* kGrant =
    R"({"device_code":"D-secret","user_code":"WDJB-MJHT","verification_uri":"https://example.com/device",)"
    R"("expires_in":1800,"interval":5})";

OAuth2Settings settings() {
    OAuth2Settings s;
    s.account = "work";
    s.token_url = "https://auth.example/token";
    s.device_url = "https://auth.example/device";
    s.scopes = "https://mail.google.com/";
    s.client_id = "client-1";
    s.client_secret = [] { return std::string("S"); };
    return s;
}

struct Run {
    std::vector<seconds> waits;
    std::string out;
    std::string error;
    TokenReply reply;
};

Run run(const std::shared_ptr<FakeEndpoint>& endpoint, const OAuth2Settings& s = settings()) {
    Run r;
    std::ostringstream out;
    try {
        r.reply = run_device_flow(s, FakeEndpoint::poster(endpoint), out, [&](seconds d) { r.waits.push_back(d); });
    } catch (const OAuth2Error& e) {
        r.error = e.what();
    }
    r.out = out.str();
    return r;
}

std::string error_json(const std::string& error) { return "{\"error\":\"" + error + "\"}"; }

}  // namespace

TEST_CASE("device flow: shows the URL and code, polls at the interval, slows down when told", "[oauth2][auth]") {
    auto endpoint = std::make_shared<FakeEndpoint>();
    endpoint->reply(200, kGrant);
    endpoint->reply(400, error_json("authorization_pending"));
    endpoint->reply(400, error_json("slow_down"));
    endpoint->reply(400, error_json("authorization_pending"));
    endpoint->reply(200, token_json("A1", 3600, "R1"));
    auto r = run(endpoint);
    REQUIRE(r.error.empty());
    CHECK(r.reply.refresh_token == "R1");
    CHECK(r.waits == std::vector<seconds>{seconds(5), seconds(5), seconds(10), seconds(10)});
    CHECK_THAT(r.out, Catch::Contains("https://example.com/device") && Catch::Contains("WDJB-MJHT"));
    CHECK(r.out.find("D-secret") == std::string::npos);
    REQUIRE(endpoint->requests.size() == 5);
    const auto& ask = endpoint->requests[0];
    CHECK(ask.url == "https://auth.example/device");
    CHECK(ask.field("client_id") == "client-1");
    CHECK(ask.field("scope") == "https://mail.google.com/");
    const auto& poll = endpoint->requests[1];
    CHECK(poll.url == "https://auth.example/token");
    CHECK(poll.field("grant_type") == "urn:ietf:params:oauth:grant-type:device_code");
    CHECK(poll.field("device_code") == "D-secret");
    CHECK(poll.field("client_secret") == "S");
}

TEST_CASE("device flow: refusals and expiry end it with the cause", "[oauth2][auth]") {
    struct Case {
        const char* what;
        std::vector<std::pair<long, std::string>> replies;
        const char* says;
    };
    const std::vector<Case> cases = {
        {"access_denied", {{200, kGrant}, {400, error_json("authorization_pending")}, {400, error_json("access_denied")}},
         "denied"},
        {"expired_token", {{200, kGrant}, {400, error_json("expired_token")}}, "imapkeep auth work"},
        {"the code's lifetime runs out while pending",
         {{200, R"({"device_code":"D","user_code":"U","verification_url":"https://g.co/device","expires_in":12})"},
          {400, error_json("authorization_pending")}},
         "expired"},
        {"device endpoint refuses the client", {{401, error_json("invalid_client")}}, "oauth2_client_id"},
        {"device endpoint answers nonsense", {{200, R"({"user_code":"U"})"}}, "device_code"},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.what) {
            auto endpoint = std::make_shared<FakeEndpoint>();
            for (const auto& [status, body] : c.replies) endpoint->reply(status, body);
            auto r = run(endpoint);
            CHECK_THAT(r.error, Catch::Contains("account work") && Catch::Contains(c.says));
        }
    }
}

TEST_CASE("device flow: Google's verification_url and the default interval", "[oauth2][auth]") {
    auto endpoint = std::make_shared<FakeEndpoint>();
    endpoint->reply(200, R"({"device_code":"D","user_code":"U-1","verification_url":"https://www.google.com/device","expires_in":"1800"})");
    endpoint->reply(200, token_json("A1", 3599, "R1"));
    auto r = run(endpoint);
    REQUIRE(r.error.empty());
    CHECK_THAT(r.out, Catch::Contains("https://www.google.com/device"));
    CHECK(r.waits == std::vector<seconds>{seconds(5)});
}

TEST_CASE("device flow needs a device endpoint", "[oauth2][auth]") {
    auto s = settings();
    s.device_url.clear();
    auto r = run(std::make_shared<FakeEndpoint>(), s);
    CHECK_THAT(r.error, Catch::Contains("oauth2_device_url"));
}
