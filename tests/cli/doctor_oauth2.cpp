// doctor for an OAuth2 account (issue 12): the refresh token's source, one
// refresh at the token endpoint (an in-memory one), no token ever printed;
// and token files others can read, or of another user, refused at run time as
// password files are.
#include "cli/doctor.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "cli/cli_fixture.hpp"
#include "cli/oauth2_token.hpp"
#include "cli/permissions.hpp"
#include "oauth2_fake_endpoint.hpp"

using namespace imapkeep::cli;
using cli_test::FakeEndpoint;
using cli_test::token_json;
namespace fs = std::filesystem;

namespace {

struct OAuthDoctor {
    OAuthDoctor() {
        std::string templ = (fs::temp_directory_path() / "imapkeep-doctor-oauth2-XXXXXX").string();
        dir = ::mkdtemp(templ.data());
        settings.account = "work";
        settings.token_url = "https://auth.example/token";
        settings.client_id = "client-1";
        settings.cache_file = (dir / "work.oauth2.json").string();
    }
    ~OAuthDoctor() { fs::remove_all(dir); }

    std::vector<CheckResult> run() { return check_oauth2(settings, FakeEndpoint::poster(endpoint)); }
    static std::string lines(const std::vector<CheckResult>& checks) {
        std::string out;
        for (const auto& c : checks) out += format_check(c) + "\n";
        return out;
    }

    fs::path dir;
    OAuth2Settings settings;
    std::shared_ptr<FakeEndpoint> endpoint = std::make_shared<FakeEndpoint>();
};

const char* kSecrets[] = {"R-SECRET-1", "R-SECRET-2", "A-SECRET-1", "A-SECRET-0"};

void check_no_secret(const std::string& text) {
    for (const char* s : kSecrets) CHECK(text.find(s) == std::string::npos);
}

}  // namespace

TEST_CASE("doctor: an OAuth2 account without a refresh token FAILs and asks for `imapkeep auth`", "[doctor][oauth2]") {
    OAuthDoctor d;
    SECTION("no token cache yet") {
        auto checks = d.run();
        INFO(OAuthDoctor::lines(checks));
        REQUIRE(checks.size() == 1);  // the endpoint is not asked
        CHECK(checks[0].status == CheckStatus::Fail);
        CHECK(checks[0].name == "work: oauth2 token");
        CHECK(checks[0].detail.find(d.settings.cache_file) != std::string::npos);
        CHECK(checks[0].hint.find("imapkeep auth work") != std::string::npos);
    }
    SECTION("a token cache with only an access token") {
        TokenCache cache;
        cache.access_token = "A-SECRET-0";
        cache.expires_at = std::chrono::system_clock::now() + std::chrono::hours(1);
        write_token_cache(d.settings.cache_file, cache);
        auto checks = d.run();
        REQUIRE(checks.size() == 1);
        CHECK(checks[0].status == CheckStatus::Fail);
        check_no_secret(OAuthDoctor::lines(checks));
    }
    SECTION("a refresh token file that is missing or empty") {
        d.settings.refresh_token_file = (d.dir / "work.refresh").string();
        auto checks = d.run();
        REQUIRE(checks.size() == 1);
        CHECK(checks[0].status == CheckStatus::Fail);
        CHECK(checks[0].detail.find("oauth2_refresh_token_file") != std::string::npos);
        std::ofstream(d.settings.refresh_token_file).flush();
        checks = d.run();
        REQUIRE(checks.size() == 1);
        CHECK(checks[0].detail.find("empty") != std::string::npos);
    }
    CHECK(d.endpoint->requests.empty());
}

TEST_CASE("doctor: the token endpoint renews the access token once; no token is printed", "[doctor][oauth2]") {
    OAuthDoctor d;
    TokenCache cache;
    cache.refresh_token = "R-SECRET-1";
    // A cached access token still valid: doctor asks the endpoint anyway.
    cache.access_token = "A-SECRET-0";
    cache.expires_at = std::chrono::system_clock::now() + std::chrono::hours(1);
    write_token_cache(d.settings.cache_file, cache);
    d.endpoint->reply(200, token_json("A-SECRET-1", 3600, "R-SECRET-2"));
    auto checks = d.run();
    const std::string text = OAuthDoctor::lines(checks);
    INFO(text);
    REQUIRE(checks.size() == 2);
    CHECK(checks[0].status == CheckStatus::Ok);
    CHECK(checks[1].status == CheckStatus::Ok);
    CHECK(checks[1].name == "work: token endpoint");
    CHECK(checks[1].detail.find("https://auth.example/token") != std::string::npos);
    // 3600 s as issued, less the time the test took.
    CHECK((checks[1].detail.find("valid for 3600 s") != std::string::npos ||
           checks[1].detail.find("valid for 3599 s") != std::string::npos));
    check_no_secret(text);
    REQUIRE(d.endpoint->requests.size() == 1);
    CHECK(d.endpoint->requests[0].field("refresh_token") == "R-SECRET-1");
    // Kept as a run would keep it: Microsoft's new refresh token is not lost.
    auto after = read_token_cache(d.settings.cache_file);
    CHECK(after.access_token == "A-SECRET-1");
    CHECK(after.refresh_token == "R-SECRET-2");
}

TEST_CASE("doctor: a refused or unreachable token endpoint FAILs with a hint, no token printed", "[doctor][oauth2]") {
    OAuthDoctor d;
    TokenCache cache;
    cache.refresh_token = "R-SECRET-1";
    write_token_cache(d.settings.cache_file, cache);
    SECTION("revoked") {
        d.endpoint->reply(400, R"({"error":"invalid_grant","error_description":"AADSTS70008: expired"})");
        auto checks = d.run();
        REQUIRE(checks.size() == 2);
        CHECK(checks[1].status == CheckStatus::Fail);
        CHECK(checks[1].detail.find("refresh token was refused") != std::string::npos);
        CHECK(checks[1].hint.find("imapkeep auth work") != std::string::npos);
        check_no_secret(OAuthDoctor::lines(checks));
    }
    SECTION("unreachable") {
        d.endpoint->unreachable = true;
        auto checks = d.run();
        REQUIRE(checks.size() == 2);
        CHECK(checks[1].status == CheckStatus::Fail);
        CHECK(checks[1].hint.find("network") != std::string::npos);
        check_no_secret(OAuthDoctor::lines(checks));
    }
}

TEST_CASE("OAuth2 token files: readable by others or owned by another user, refused like a password file",
          "[doctor][oauth2][permissions]") {
    cli_test::CliFixture f;
    const std::string cache = f.store + ".oauth2.json";
    std::ofstream(f.config) << "[store]\npath = \"" << f.store << "\"\n[[account]]\nname = \"work\"\n"
                            << "provider = \"microsoft\"\nuser = \"me@example.com\"\nauth = \"oauth2\"\n"
                            << "oauth2_client_id = \"client-1\"\noauth2_token_cache = \"" << cache << "\"\n";
    ::chmod(f.config.c_str(), 0600);
    const std::string refused = cache + " holds the OAuth2 tokens of account work and other users can read it: chmod 600 " + cache;

    SECTION("no token cache yet: nothing to refuse") {
        auto config = load_config(f.config);
        CHECK(secret_exposure(config.secret_files).errors.empty());
        CHECK(secret_file_problems(config.secret_files, config.file).empty());
        CHECK(f.run({"status", "--config", f.config}).code != 2);
    }
    std::ofstream(cache) << R"({"refresh_token":"R-SECRET-1"})";
    SECTION("mode 0600, ours") {
        ::chmod(cache.c_str(), 0600);
        auto r = f.run({"status", "--config", f.config});
        INFO(r.err);
        CHECK(r.code != 2);
    }
    SECTION("readable by the group") {
        ::chmod(cache.c_str(), 0640);
        auto r = f.run({"status", "--config", f.config});
        INFO(r.err);
        CHECK(r.code == 2);
        CHECK(r.err.find(refused) != std::string::npos);
        check_no_secret(r.err);
        auto checks = check_config_files(load_config(f.config), false);
        bool failed = false;
        for (const auto& c : checks) failed |= c.status == CheckStatus::Fail && c.name == "secret permissions";
        CHECK(failed);
    }
    SECTION("owned by another user") {
        ::chmod(cache.c_str(), 0600);
        REQUIRE(::chown(cache.c_str(), ::geteuid() + 4242, static_cast<gid_t>(-1)) == 0);  // the tests run as root
        auto r = f.run({"status", "--config", f.config});
        INFO(r.err);
        CHECK(r.code == 2);
        CHECK(r.err.find(cache + " holds the OAuth2 tokens of account work and belongs to uid " +
                         std::to_string(::geteuid() + 4242)) != std::string::npos);
    }
    SECTION("allowed on purpose: a warning") {
        std::ofstream(f.config, std::ios::app) << "allow_readable_secrets = true\n";
        ::chmod(cache.c_str(), 0644);
        auto r = f.run({"status", "--config", f.config});
        INFO(r.err);
        CHECK(r.code != 2);
        CHECK(r.err.find("WARNING: " + cache + " holds the OAuth2 tokens") != std::string::npos);
    }
}
