// imapkeep auth (src/cli/cmd_auth.cpp) in-process, against an in-memory
// provider: where the refresh token goes, exit codes, nothing secret printed.
#include "cli/cmd_auth.hpp"

#include "cli/oauth2_token.hpp"
#include "oauth2_fake_endpoint.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace imapkeep::cli;
using cli_test::FakeEndpoint;
using cli_test::token_json;
namespace fs = std::filesystem;

namespace {

const char* kGrant = R"({"device_code":"D","user_code":"WDJB-MJHT","verification_uri":"https://example.com/device","interval":1})";

struct AuthFixture {
    AuthFixture() {
        std::string templ = (fs::temp_directory_path() / "imapkeep-auth-XXXXXX").string();
        dir = ::mkdtemp(templ.data());
    }
    ~AuthFixture() { fs::remove_all(dir); }

    Config config(const std::string& extra) {
        return parse_config("[store]\npath = \"" + (dir / "store").string() +
                                "\"\n[[account]]\nname = \"work\"\nhost = \"imap.example.com\"\nuser = \"me\"\n"
                                "auth = \"oauth2\"\noauth2_client_id = \"c\"\n"
                                "oauth2_token_url = \"https://auth.example/token\"\n"
                                "oauth2_device_url = \"https://auth.example/device\"\n" +
                                extra + "[[account]]\nname = \"plain\"\nhost = \"h\"\nuser = \"u\"\npassword = \"p\"\n",
                            (dir / "config.toml").string());
    }
    int run(const Config& c, const std::string& account) {
        std::ostringstream o, e;
        Io io{o, e, false};
        int code = run_auth(c, AuthArgs{account, FakeEndpoint::poster(endpoint), [](std::chrono::seconds) {}}, io);
        out = o.str();
        err = e.str();
        return code;
    }

    fs::path dir;
    std::shared_ptr<FakeEndpoint> endpoint = std::make_shared<FakeEndpoint>();
    std::string out, err;
};

}  // namespace

TEST_CASE("imapkeep auth keeps the refresh token in the 0600 token cache beside the config", "[auth][oauth2]") {
    AuthFixture f;
    f.endpoint->reply(200, kGrant);
    f.endpoint->reply(400, R"({"error":"authorization_pending"})");
    f.endpoint->reply(200, token_json("A-secret", 3600, "R-secret"));
    REQUIRE(f.run(f.config(""), "work") == 0);
    const std::string cache = (f.dir / "work.oauth2.json").string();
    CHECK_THAT(f.out, Catch::Contains("WDJB-MJHT") && Catch::Contains(cache));
    for (const auto& text : {f.out, f.err}) {
        CHECK(text.find("R-secret") == std::string::npos);
        CHECK(text.find("A-secret") == std::string::npos);
    }
    struct stat st {};
    REQUIRE(::stat(cache.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto tokens = read_token_cache(cache);
    CHECK(tokens.refresh_token == "R-secret");
    CHECK(tokens.access_token == "A-secret");
}

TEST_CASE("imapkeep auth with oauth2_refresh_token_file writes the file, not the cache's refresh token", "[auth][oauth2]") {
    AuthFixture f;
    f.endpoint->reply(200, kGrant);
    f.endpoint->reply(200, token_json("A", 3600, "R-new"));
    REQUIRE(f.run(f.config("oauth2_refresh_token_file = \"refresh\"\n"), "work") == 0);
    std::ifstream in(f.dir / "refresh");
    std::string line;
    std::getline(in, line);
    CHECK(line == "R-new");
    CHECK(read_token_cache((f.dir / "work.oauth2.json").string()).refresh_token.empty());
}

TEST_CASE("imapkeep auth: exit 2 for an account without an OAuth2 client, 3 when refused", "[auth][oauth2]") {
    AuthFixture f;
    CHECK(f.run(f.config(""), "plain") == 2);
    CHECK_THAT(f.err, Catch::Contains("account plain has no OAuth2 client"));
    CHECK_THROWS_AS(f.run(f.config(""), "nobody"), ConfigError);  // run_app turns it into exit 2
    f.endpoint->reply(200, kGrant);
    f.endpoint->reply(400, R"({"error":"access_denied"})");
    CHECK(f.run(f.config(""), "work") == 3);
    CHECK_THAT(f.err, Catch::Contains("account work: the authorization was denied"));
    CHECK_FALSE(fs::exists(f.dir / "work.oauth2.json"));
    // A provider that gives no refresh token (no offline scope) is an error too.
    auto none = std::make_shared<FakeEndpoint>();
    f.endpoint = none;
    none->reply(200, kGrant);
    none->reply(200, token_json("A", 3600));
    CHECK(f.run(f.config(""), "work") == 3);
    CHECK_THAT(f.err, Catch::Contains("no refresh token"));
}
