// OAuth2 against a real server (issue 12): Dovecot's oauth2 passdb asks the
// test provider (scripts/test-env/oauth_server.py) to introspect each token;
// imapkeep gets its tokens from the same provider's token and device
// endpoints, over HTTPS checked against the test CA.
//
// Each test mints its own client and refresh token, so tests run in parallel.
// Test user 2 is the OAuth2 user; each test works in its own mailbox.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>

#include <imapkeep/util/base64.hpp>

#include "integration/backup_support.hpp"
#include "integration/imapkeep_process.hpp"
#include "support/fault_proxy.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kUser = 2;

bool have_oauth_env() {
    return test_env_has({"IMAPKEEP_TEST_OAUTH_URL", "IMAPKEEP_TEST_IMAPS_PORT", "IMAPKEEP_TEST_CA_FILE"},
                        "the test OAuth2 provider and Dovecot");
}

// A POST to the provider's control plane, with curl (the values are the
// test's own: no shell quoting needed beyond single quotes).
json control(const std::string& path, const std::map<std::string, std::string>& fields) {
    std::string command = "curl -sS --cacert '" + *env("IMAPKEEP_TEST_CA_FILE") + "'";
    for (const auto& [k, v] : fields) command += " --data-urlencode '" + k + "=" + v + "'";
    command += " '" + *env("IMAPKEEP_TEST_OAUTH_URL") + path + "'";
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe);
    std::string out;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
    REQUIRE(::pclose(pipe) == 0);
    json j = json::parse(out, nullptr, false);
    INFO(path << " answered " << out.size() << " bytes, not a JSON object");  // it may hold a token
    REQUIRE(j.is_object());
    return j;
}

struct Grant {
    std::string client_id;
    std::string refresh_token;
};

// lifetime: how long each access token is really accepted; reported: the
// expires_in imapkeep is told; uses: logins each access token is good for.
Grant mint(int lifetime = 3600, int reported = 3600, int uses = 0) {
    Grant g;
    g.client_id = unique_name("client-");
    g.refresh_token = control("/control/mint", {{"client_id", g.client_id},
                                                {"username", test_user(kUser)},
                                                {"lifetime", std::to_string(lifetime)},
                                                {"reported", std::to_string(reported)},
                                                {"uses", std::to_string(uses)}})
                          .at("refresh_token");
    return g;
}

json stats(const Grant& g) { return control("/control/stats", {{"refresh_token", g.refresh_token}}); }

struct Account {
    std::string auth = "oauth2";
    std::string host = "localhost";
    int port = 0;
    std::string tls = "implicit";
    std::string extra;
    bool oauth2_ca = true;  // false: the token endpoint is checked against the system CAs only
};

// DIR/config.toml for account "o" backing up `mailbox`; the refresh token in
// the token cache beside it (DIR/o.oauth2.json), as `imapkeep auth` leaves it.
fs::path write_config(const fs::path& dir, const Grant& g, const std::string& mailbox, const Account& a) {
    const std::string ca = *env("IMAPKEEP_TEST_CA_FILE");
    const std::string url = *env("IMAPKEEP_TEST_OAUTH_URL");
    const int port = a.port ? a.port : std::stoi(*env("IMAPKEEP_TEST_IMAPS_PORT"));
    const fs::path config = dir / "config.toml";
    std::ofstream(config) << "[store]\npath = \"" << (dir / "store").string()
                          << "\"\n\n[[account]]\nname = \"o\"\n"
                          << "host = \"" << a.host << "\"\nport = " << port << "\ntls = \"" << a.tls
                          << "\"\nca_file = \"" << ca << "\"\nuser = \"" << test_user(kUser)
                          << "\"\nauth = \"" << a.auth << "\"\noauth2_client_id = \"" << g.client_id
                          << "\"\noauth2_token_url = \"" << url
                          << "/token\"\noauth2_device_url = \"" << url << "/device\"\n"
                          << (a.oauth2_ca ? "oauth2_ca_file = \"" + ca + "\"\n" : "")
                          << "mailboxes = [\"" << mailbox << "\"]\nretry_delay = 0.1\n"
                          << a.extra;
    ::chmod(config.c_str(), 0600);
    if (!g.refresh_token.empty()) {
        std::ofstream(dir / "o.oauth2.json") << json{{"refresh_token", g.refresh_token}}.dump();
        ::chmod((dir / "o.oauth2.json").c_str(), 0600);
    }
    return config;
}

// A TempDir only its owner can read: the config holds no secret, the token cache does.
struct PrivateDir : TempDir {
    PrivateDir() { ::chmod(path.c_str(), 0700); }
};

// Line ends aside: the store writes the local form (line_endings), the
// server has CRLF.
std::string without_cr(std::string text) {
    text.erase(std::remove(text.begin(), text.end(), '\r'), text.end());
    return text;
}

// A mailbox of user 2 with `count` distinct messages of about `size` bytes.
struct Mailbox {
    std::string name = unique_name("ikoauth");
    std::multiset<std::string> bodies;
    std::unique_ptr<imap::Client> admin = imap::connect_and_login(dovecot_options(kUser));

    explicit Mailbox(int count, std::size_t size = 200) {
        admin->create(name);
        for (int i = 0; i < count; ++i) {
            std::string body = "Subject: oauth " + std::to_string(i) + "\r\nMessage-ID: <" + std::to_string(i) + "@" +
                               name + ">\r\n\r\n";
            while (body.size() < size) body += "line " + std::to_string(body.size()) + " of message " + std::to_string(i) + "\r\n";
            admin->append(name, {}, std::nullopt, body);
            bodies.insert(without_cr(body));
        }
    }
    ~Mailbox() {
        try {
            admin->delete_mailbox(name);
        } catch (const std::exception&) {
        }
    }
};

// Every message file in the store, by content: a lost message or one
// stored twice shows.
std::multiset<std::string> stored_bodies(const fs::path& store) {
    std::multiset<std::string> out;
    if (!fs::exists(store / "mail")) return out;
    for (const auto& e : fs::recursive_directory_iterator(store / "mail")) {
        const auto folder = e.path().parent_path().filename();
        if (e.is_regular_file() && (folder == "cur" || folder == "new")) out.insert(without_cr(slurp_file(e.path())));
    }
    return out;
}

// What must never be printed: each token as it is, and inside each SASL
// payload that carries it.
std::vector<std::string> token_leak_forms(const std::string& token) {
    const std::string user = test_user(kUser);
    return {token, util::base64_encode("user=" + user + "\x01" "auth=Bearer " + token + "\x01\x01"),
            util::base64_encode("n,a=" + user + ",\x01" "auth=Bearer " + token + "\x01\x01"),
            util::base64_encode(token)};
}

// Also into the test log, for scripts/test.sh's grep for the provider's
// token markers over all of it (it never prints a token itself).
void check_no_secret(const ChildResult& r, const std::vector<std::string>& secrets) {
    std::cout << "=== oauth2 secrets (exit " << r.code << ")\n" << r.out << r.err;
    for (const auto& secret : secrets)
        for (const auto& form : token_leak_forms(secret)) {
            CHECK(r.out.find(form) == std::string::npos);  // not printed: it is the secret
            CHECK(r.err.find(form) == std::string::npos);
        }
}

std::string cached_access_token(const fs::path& dir) {
    json j = json::parse(slurp_file(dir / "o.oauth2.json"), nullptr, false);
    return j.is_object() ? j.value("access_token", "") : "";
}

}  // namespace

TEST_CASE("backup with XOAUTH2, OAUTHBEARER and auth = oauth2 against Dovecot's oauth2 passdb",
          "[integration][oauth2]") {
    if (!have_oauth_env()) return;
    Mailbox mailbox(3);
    for (const std::string auth : {"xoauth2", "oauthbearer", "oauth2"}) {
        DYNAMIC_SECTION(auth) {
            PrivateDir dir;
            const Grant g = mint();
            Account a;
            a.auth = auth;
            auto config = write_config(dir.path, g, mailbox.name, a);
            auto r = run_imapkeep_binary({"backup", "-vv", "--config", config.string()}, dir.path);
            INFO(r.err);
            REQUIRE(r.code == 0);
            CHECK(stored_bodies(dir.path / "store") == mailbox.bodies);
            CHECK_THAT(r.err, Catch::Contains("AUTHENTICATE"));
            const json s = stats(g);
            CHECK(s.at("refreshes") == 1);
            CHECK(s.at("accepted") >= 1);
            // The token cache: private, and the token it holds is reused by the next run.
            struct stat st {};
            REQUIRE(::stat((dir.path / "o.oauth2.json").c_str(), &st) == 0);
            CHECK((st.st_mode & 0777) == 0600);
            const std::string access = cached_access_token(dir.path);
            CHECK_FALSE(access.empty());
            check_no_secret(r, {g.refresh_token, access});
            auto again = run_imapkeep_binary({"backup", "-vv", "--config", config.string()}, dir.path);
            CHECK(again.code == 0);
            CHECK(stats(g).at("refreshes") == 1);
            check_no_secret(again, {g.refresh_token, access});
        }
    }
}

TEST_CASE("a token the server stops accepting mid-run is renewed; the store equals the server after",
          "[integration][oauth2]") {
    if (!have_oauth_env()) return;
    // Each access token is good for one login, though it says it lasts an
    // hour: the reconnect after the cut meets an expired token, exactly as a
    // long run does when the provider ends a token early (O365 after an hour).
    const Grant g = mint(3600, 3600, 1);
    Mailbox mailbox(60, 8000);
    FaultProxy proxy(env("IMAPKEEP_TEST_HOST").value_or("127.0.0.1"), std::stoi(*env("IMAPKEEP_TEST_IMAP_PORT")));
    // Cut the first connection in the middle of the bodies.
    proxy.set_fault({FaultProxy::Action::Cut, FaultProxy::Direction::ServerToClient, 250'000, false});
    PrivateDir dir;
    Account a;
    a.host = "127.0.0.1";
    a.port = proxy.port();
    a.tls = "none";
    a.extra = "allow_plaintext_auth = true\nconnections = 1\n";
    auto config = write_config(dir.path, g, mailbox.name, a);
    auto r = run_imapkeep_binary({"backup", "--config", config.string()}, dir.path);
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(proxy.counts().faults == 1);
    CHECK(proxy.counts().connections >= 2);
    const json s = stats(g);
    INFO(s.dump());
    CHECK(s.at("refused").get<int>() >= 1);        // the reconnect met the used-up token
    CHECK(s.at("refreshes").get<int>() >= 2);      // and got a new one
    CHECK(stored_bodies(dir.path / "store") == mailbox.bodies);  // nothing lost, nothing twice
    check_no_secret(r, {g.refresh_token});
}

TEST_CASE("a revoked refresh token: a clear error naming the account and imapkeep auth, exit 3",
          "[integration][oauth2]") {
    if (!have_oauth_env()) return;
    Mailbox mailbox(1);
    const Grant g = mint();
    control("/control/revoke", {{"refresh_token", g.refresh_token}});
    PrivateDir dir;
    auto config = write_config(dir.path, g, mailbox.name, Account{});
    auto r = run_imapkeep_binary({"backup", "--config", config.string()}, dir.path);
    INFO(r.err);
    CHECK(r.code == 3);
    CHECK_THAT(r.err, Catch::Contains("account o") && Catch::Contains("invalid_grant") &&
                          Catch::Contains("imapkeep auth o"));
    check_no_secret(r, {g.refresh_token});
    CHECK(stats(g).at("refreshes") == 0);
}

TEST_CASE(
    "the token endpoint's certificate is checked against the system CAs: the test CA's is refused, "
    "exit 3",
    "[integration][oauth2]") {
    if (!have_oauth_env()) return;
    Mailbox mailbox(1);
    const Grant g = mint();
    PrivateDir dir;
    Account a;
    a.oauth2_ca = false;  // the test CA is no system CA
    auto config = write_config(dir.path, g, mailbox.name, a);
    auto r = run_imapkeep_binary({"backup", "--config", config.string()}, dir.path);
    INFO(r.err);
    CHECK(r.code == 3);
    CHECK_THAT(r.err, Catch::Contains("account o") && Catch::Contains("certificate"));
    CHECK(stats(g).at("refreshes") == 0);  // the refresh token never reached it
    check_no_secret(r, {g.refresh_token});
}

TEST_CASE("imapkeep auth runs the device flow against the provider, and backup then works",
          "[integration][oauth2][auth]") {
    if (!have_oauth_env()) return;
    Mailbox mailbox(2);
    PrivateDir dir;
    Grant g;
    g.client_id = unique_name("device-");
    auto config = write_config(dir.path, g, mailbox.name, Account{});
    SECTION("approved after two pending polls") {
        control("/control/device", {{"client_id", g.client_id}, {"username", test_user(kUser)}, {"approve_after", "2"}});
        auto r = run_imapkeep_binary({"auth", "o", "--config", config.string()}, dir.path);
        INFO(r.out << r.err);
        REQUIRE(r.code == 0);
        CHECK_THAT(r.out, Catch::Contains("https://localhost/activate") && Catch::Contains("WDJB-MJHT"));
        struct stat st {};
        REQUIRE(::stat((dir.path / "o.oauth2.json").c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);
        json cache = json::parse(slurp_file(dir.path / "o.oauth2.json"));
        const std::string refresh = cache.value("refresh_token", "");
        REQUIRE_FALSE(refresh.empty());
        check_no_secret(r, {refresh, cache.value("access_token", "")});
        auto backup = run_imapkeep_binary({"backup", "--config", config.string()}, dir.path);
        INFO(backup.err);
        CHECK(backup.code == 0);
        CHECK(stored_bodies(dir.path / "store") == mailbox.bodies);
    }
    SECTION("denied") {
        control("/control/device", {{"client_id", g.client_id}, {"username", test_user(kUser)}, {"deny", "1"}});
        auto r = run_imapkeep_binary({"auth", "o", "--config", config.string()}, dir.path);
        CHECK(r.code == 3);
        CHECK_THAT(r.err, Catch::Contains("account o") && Catch::Contains("denied"));
        CHECK_FALSE(fs::exists(dir.path / "o.oauth2.json"));
    }
}
