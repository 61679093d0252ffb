// TokenSource (src/cli/oauth2_token.cpp): renewal, caching, refusal, errors,
// against an in-memory token endpoint and a clock the test moves.
#include "cli/oauth2_token.hpp"

#include "oauth2_fake_endpoint.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace imapkeep::cli;
using cli_test::FakeEndpoint;
using cli_test::token_json;
using std::chrono::seconds;
namespace fs = std::filesystem;

namespace {

struct TokenFixture {
    TokenFixture() {
        std::string templ = (fs::temp_directory_path() / "imapkeep-oauth2-XXXXXX").string();
        dir = ::mkdtemp(templ.data());
        settings.account = "work";
        settings.token_url = "https://auth.example/token";
        settings.client_id = "client-1";
        settings.cache_file = (dir / "work.oauth2.json").string();
    }
    ~TokenFixture() { fs::remove_all(dir); }

    TokenSource source() {
        return TokenSource(settings, FakeEndpoint::poster(endpoint), [this] { return now; });
    }
    void seed_refresh_token(const std::string& token) {
        TokenCache cache;
        cache.refresh_token = token;
        write_token_cache(settings.cache_file, cache);
    }

    fs::path dir;
    OAuth2Settings settings;
    std::shared_ptr<FakeEndpoint> endpoint = std::make_shared<FakeEndpoint>();
    std::chrono::system_clock::time_point now = std::chrono::system_clock::time_point(seconds(1'800'000'000));
};

std::string error_of(TokenSource& source, imapkeep::imap::ConnectError::Kind& kind) {
    try {
        source.access_token();
    } catch (const OAuth2Error& e) {
        kind = e.kind();
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("an access token is reused while it has more than 60 s left, then renewed", "[oauth2]") {
    TokenFixture f;
    f.seed_refresh_token("R1");
    f.endpoint->reply(200, token_json("A1", 3600));
    f.endpoint->replies.push_back({200, token_json("A2", 3600)});
    auto source = f.source();
    CHECK(source.access_token() == "A1");
    REQUIRE(f.endpoint->requests.size() == 1);
    const auto& request = f.endpoint->requests[0];
    CHECK(request.url == "https://auth.example/token");
    CHECK(request.field("grant_type") == "refresh_token");
    CHECK(request.field("refresh_token") == "R1");
    CHECK(request.field("client_id") == "client-1");
    CHECK(request.field("client_secret").empty());  // a public client sends none
    f.now += seconds(3600 - 61);
    CHECK(source.access_token() == "A1");
    CHECK(source.refreshes() == 1);
    f.now += seconds(2);  // 59 s left
    CHECK(source.access_token() == "A2");
    CHECK(source.refreshes() == 2);
}

TEST_CASE("the token cache file is 0600, holds the expiry, and spares the next run a refresh", "[oauth2]") {
    TokenFixture f;
    f.seed_refresh_token("R1");
    f.endpoint->reply(200, token_json("A1", 3600));
    f.source().access_token();
    struct stat st {};
    REQUIRE(::stat(f.settings.cache_file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto cache = read_token_cache(f.settings.cache_file);
    CHECK(cache.refresh_token == "R1");
    CHECK(cache.access_token == "A1");
    CHECK(cache.expires_at == f.now + seconds(3600));
    auto next_run = f.source();
    CHECK(next_run.access_token() == "A1");
    CHECK(next_run.refreshes() == 0);
}

TEST_CASE("a refused token is renewed once, however many connections saw it refused", "[oauth2]") {
    TokenFixture f;
    f.seed_refresh_token("R1");
    f.endpoint->reply(200, token_json("A1", 3600));
    f.endpoint->replies.push_back({200, token_json("A2", 3600)});
    auto source = f.source();
    REQUIRE(source.access_token() == "A1");
    source.rejected("A1");
    source.rejected("A1");  // a second connection saw the same token refused
    CHECK(source.access_token() == "A2");
    CHECK(source.access_token() == "A2");
    CHECK(source.refreshes() == 2);
    // Not from the cache file either: it still names the refused token.
    auto cache = read_token_cache(f.settings.cache_file);
    CHECK(cache.access_token == "A2");
}

TEST_CASE("connections asking at once share one refresh", "[oauth2]") {
    TokenFixture f;
    f.seed_refresh_token("R1");
    f.endpoint->reply(200, token_json("A1", 3600));
    auto source = f.source();
    std::vector<std::thread> threads;
    std::vector<std::string> got(8);
    for (std::size_t i = 0; i < got.size(); ++i)
        threads.emplace_back([&, i] { got[i] = source.access_token(); });
    for (auto& t : threads) t.join();
    CHECK(source.refreshes() == 1);
    for (const auto& g : got) CHECK(g == "A1");
}

TEST_CASE("token endpoint failures name the account and say what to do", "[oauth2]") {
    using Kind = imapkeep::imap::ConnectError::Kind;
    struct Case {
        const char* what;
        long status;
        std::string body;
        bool unreachable;
        Kind kind;
        std::vector<std::string> says;
    };
    const std::vector<Case> cases = {
        {"revoked refresh token", 400, R"({"error":"invalid_grant","error_description":"Token has been expired or revoked."})",
         false, Kind::Auth, {"account work", "invalid_grant", "Token has been expired or revoked.", "imapkeep auth work"}},
        {"unknown client", 401, R"({"error":"invalid_client"})", false, Kind::Auth,
         {"account work", "client-1", "oauth2_client_id"}},
        {"server error", 503, "<html>down</html>", false, Kind::Network, {"account work", "HTTP 503"}},
        {"too many requests", 429, R"({"error":"rate_limited"})", false, Kind::Network, {"rate_limited"}},
        {"not JSON with 200", 200, "ok", false, Kind::Auth, {"invalid_response"}},
        {"no access token", 200, R"({"token_type":"Bearer"})", false, Kind::Auth, {"no access_token"}},
        {"unreachable", 0, "", true, Kind::Network, {"account work", "cannot renew", "Could not resolve host"}},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.what) {
            TokenFixture f;
            f.seed_refresh_token("R1-secret");
            f.endpoint->reply(c.status, c.body);
            f.endpoint->unreachable = c.unreachable;
            auto source = f.source();
            Kind kind = Kind::Protocol;
            const std::string message = error_of(source, kind);
            CHECK(kind == c.kind);
            for (const auto& s : c.says) CHECK_THAT(message, Catch::Contains(s));
            CHECK(message.find("R1-secret") == std::string::npos);
        }
    }
}

TEST_CASE("without a refresh token the error says to run imapkeep auth", "[oauth2]") {
    TokenFixture f;
    f.endpoint->reply(200, token_json("A1", 3600));
    auto source = f.source();
    imapkeep::imap::ConnectError::Kind kind{};
    const std::string message = error_of(source, kind);
    CHECK(kind == imapkeep::imap::ConnectError::Kind::Auth);
    CHECK_THAT(message, Catch::Contains("no OAuth2 refresh token") && Catch::Contains("imapkeep auth work"));
    CHECK(f.endpoint->requests.empty());
}

TEST_CASE("a rotated refresh token is kept where the refresh token lives", "[oauth2]") {
    SECTION("the token cache") {
        TokenFixture f;
        f.seed_refresh_token("R1");
        f.endpoint->reply(200, token_json("A1", 3600, "R2"));
        f.source().access_token();
        CHECK(read_token_cache(f.settings.cache_file).refresh_token == "R2");
    }
    SECTION("oauth2_refresh_token_file: rewritten; the cache holds no refresh token") {
        TokenFixture f;
        f.settings.refresh_token_file = (f.dir / "refresh").string();
        std::ofstream(f.settings.refresh_token_file) << "R1\n";
        f.endpoint->reply(200, token_json("A1", 3600, "R2"));
        f.source().access_token();
        CHECK(f.endpoint->requests.at(0).field("refresh_token") == "R1");
        std::ifstream in(f.settings.refresh_token_file);
        std::string line;
        std::getline(in, line);
        CHECK(line == "R2");
        CHECK(read_token_cache(f.settings.cache_file).refresh_token.empty());
    }
    SECTION("oauth2_refresh_token_command: run once per run, never cached") {
        TokenFixture f;
        const auto counter = f.dir / "runs";
        f.settings.refresh_token_command = "echo x >> '" + counter.string() + "'; echo R-from-command";
        f.settings.client_secret = [] { return std::string("S-secret"); };
        f.endpoint->reply(200, token_json("A1", 1, "R2"));  // 1 s: renewed at every ask
        auto source = f.source();
        source.access_token();
        source.access_token();
        CHECK(source.refreshes() == 2);
        CHECK(f.endpoint->requests.at(1).field("refresh_token") == "R-from-command");
        CHECK(f.endpoint->requests.at(1).field("client_secret") == "S-secret");
        CHECK(fs::file_size(counter) == 2);  // one "x\n"
        CHECK(read_token_cache(f.settings.cache_file).refresh_token.empty());
    }
}

TEST_CASE("store_refresh_token: cache, file, store command; a read-only command source refuses", "[oauth2]") {
    TokenFixture f;
    store_refresh_token(f.settings, "R9");
    CHECK(read_token_cache(f.settings.cache_file).refresh_token == "R9");

    f.settings.refresh_token_command = "echo old";
    CHECK_THROWS_WITH(store_refresh_token(f.settings, "R9"),
                      Catch::Contains("oauth2_refresh_token_store_command") && !Catch::Contains("R9"));
    const auto stored = f.dir / "stored";
    f.settings.refresh_token_store_command = "cat > '" + stored.string() + "'";
    store_refresh_token(f.settings, "R9");
    std::ifstream in(stored);
    std::string line;
    std::getline(in, line);
    CHECK(line == "R9");
}
