// Quirk(O365): Exchange Online ends a session whose OAuth2 access token
// expired with "* BYE Session invalidated - AccessTokenExpired". The backup
// renews the token at once (no back-off), connects again and goes on; a
// second one right after a fresh token is an authentication error (exit 3),
// never a loop. The model server's O365 mode with XOAUTH2, the real
// TokenSource against the in-memory token endpoint.
#include "cli/exit_codes.hpp"
#include "cli/oauth2_token.hpp"
#include "oauth2_fake_endpoint.hpp"
#include "support/fake_pace_clock.hpp"
#include "sync/model_fixture.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace imapkeep;
using namespace imapkeep::testing;
using cli_test::FakeEndpoint;
using cli_test::token_json;

namespace {

struct ExpiryFixture : ModelFixture {
    ExpiryFixture() {
        server.make_o365({}, /*files_items=*/0);
        for (int i = 1; i <= 3; ++i) server.append("INBOX", message("m" + std::to_string(i)));
        server.oauth2_valid = [this](const std::string& token) { return valid.count(token) > 0; };
        account.connections = 1;
        account.connect.auth = "oauth2";
        cli::OAuth2Settings s;
        s.account = account.name;
        s.token_url = "https://auth.example/token";
        s.client_id = "client-1";
        s.cache_file = (dir.path / "acct.oauth2.json").string();
        cli::TokenCache cache;
        cache.refresh_token = "refresh-1";
        cli::write_token_cache(s.cache_file, cache);
        endpoint->reply(200, token_json("tok-1", 3600));
        endpoint->reply(200, token_json("tok-2", 3600));
        endpoint->reply(200, token_json("tok-3", 3600));
        source = std::make_shared<cli::TokenSource>(s, FakeEndpoint::poster(endpoint));
        cli::use_token_source(account.connect, source);
    }

    sync::AccountReport run() {
        sync::BackupOptions options;
        options.open_catalog = [path = (store.root / "catalog.sqlite").string()] { return store::open_sqlite_catalog(path); };
        options.clock = &clock;
        options.pacing_note = [this](const std::string& line) { notes.push_back(line); };
        return sync::backup_account(account, *store.catalog, *store.messages, options);
    }

    // Tokens the server takes (it calls this under its own lock).
    std::set<std::string> valid;
    std::shared_ptr<FakeEndpoint> endpoint = std::make_shared<FakeEndpoint>();
    std::shared_ptr<cli::TokenSource> source;
    FakePaceClock clock;
    std::vector<std::string> notes;
};

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

}  // namespace

TEST_CASE("o365: AccessTokenExpired renews the token at once and the run goes on", "[o365][oauth2]") {
    // Where the session ends: listing (the first connection) or in INBOX (a worker).
    const char* at = GENERATE("LIST", "SELECT");
    ExpiryFixture f;
    f.valid = {"tok-1", "tok-2"};
    bool expired = false;
    f.server.on_command = [&](const ModelCommand& c) {
        if (!expired && (c.name == at || (std::string(at) == "SELECT" && c.name == "EXAMINE"))) {
            expired = true;
            f.valid.erase("tok-1");
        }
    };
    auto report = f.run();
    INFO(at << "\n" << errors_of(report) << joined(f.notes));
    CHECK(report_ok(report));
    CHECK(f.server.oauth2_expired_byes() == 1);
    CHECK(f.server.oauth2_tried() == std::vector<std::string>{"tok-1", "tok-2"});
    CHECK(f.endpoint->requests.size() == 2);
    CHECK(report.throttle_waits == 0);
    CHECK(f.clock.slept().count() == 0);
    CHECK(f.stored("INBOX") == f.on_server("INBOX"));
    CHECK(f.server.body_fetches("INBOX") == 3);
    CHECK(cli::exit_code_for({report}) == cli::kExitOk);
}

// The same said in a NO (a session that would go on with a dead token).
TEST_CASE("o365: a NO saying AccessTokenExpired renews the token and connects again", "[o365][oauth2]") {
    ExpiryFixture f;
    f.valid = {"tok-1", "tok-2"};
    bool expired = false;
    f.server.on_reply = [&](const ModelCommand& c, std::string& reply, bool&) {
        if (expired || (c.name != "SELECT" && c.name != "EXAMINE")) return;
        expired = true;
        f.valid.erase("tok-1");
        reply = c.tag + " NO AccessTokenExpired\r\n";
    };
    auto report = f.run();
    INFO(errors_of(report) << joined(f.notes));
    CHECK(report_ok(report));
    CHECK(f.server.oauth2_tried() == std::vector<std::string>{"tok-1", "tok-2"});
    CHECK(f.endpoint->requests.size() == 2);
    CHECK(f.clock.slept().count() == 0);
    CHECK(f.stored("INBOX") == f.on_server("INBOX"));
}

TEST_CASE("o365: AccessTokenExpired right after a fresh token is an auth error, exit 3, no loop",
          "[o365][oauth2]") {
    const char* at = GENERATE("LIST", "SELECT");
    ExpiryFixture f;
    // Every token is taken at AUTHENTICATE, and has expired by the command named.
    std::set<std::string> used;
    f.server.oauth2_valid = [&](const std::string& token) { return !used.count(token); };
    f.server.on_command = [&](const ModelCommand& c) {
        if (c.name == at || (std::string(at) == "SELECT" && c.name == "EXAMINE"))
            for (const auto& t : f.server.oauth2_tried()) used.insert(t);
    };
    auto report = f.run();
    INFO(at << "\n" << errors_of(report) << joined(f.notes));
    CHECK(f.server.oauth2_expired_byes() == 2);
    CHECK(f.endpoint->requests.size() == 2);
    CHECK(f.clock.slept().count() == 0);
    CHECK(report.connect_failed);
    CHECK(report.error_kind == imap::ConnectError::Kind::Auth);
    CHECK_THAT(report.error, Catch::Contains("AccessTokenExpired") && Catch::Contains("renewed"));
    CHECK(cli::exit_code_for({report}) == cli::kExitConnect);
}
