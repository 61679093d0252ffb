#include "cli/config.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

using imapkeep::cli::Config;
using imapkeep::cli::ConfigError;
using imapkeep::cli::parse_config;
using imapkeep::imap::TlsMode;

namespace {

// Lines 1-2 and 3-6; what a case appends starts at line 7.
const std::string kStore = "[store]\npath = \"/var/backups/mail\"\n";
const std::string kAccount = "[[account]]\nname = \"work\"\nhost = \"imap.example.com\"\nuser = \"me\"\n";

std::string error_of(const std::string& text) {
    try {
        parse_config(text, "/etc/imapkeep/test.toml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("config errors name the file, the line and the key", "[config]") {
    struct Case {
        const char* what;
        std::string text;
        std::string location;  // "FILE:LINE: KEY"
        const char* detail;
    };
    const std::string f = "/etc/imapkeep/test.toml:";
    const Case cases[] = {
        {"port out of range", kStore + kAccount + "port = 70000\n", f + "7: account.port",
         "expected an integer between 1 and 65535"},
        {"port as string", kStore + kAccount + "port = \"993\"\n", f + "7: account.port", "expected an integer"},
        {"bad tls", kStore + kAccount + "tls = \"ssl\"\n", f + "7: account.tls", "\"implicit\", \"starttls\", \"none\""},
        {"bad auth", kStore + kAccount + "auth = \"gssapi\"\n", f + "7: account.auth", "expected one of"},
        {"bad expunged", kStore + kAccount + "expunged = \"drop\"\n", f + "7: account.expunged", "\"keep\", \"mirror\""},
        {"connections 0", kStore + kAccount + "connections = 0\n", f + "7: account.connections", "between 1 and 16"},
        {"connections 17", kStore + kAccount + "connections = 17\n", f + "7: account.connections", "between 1 and 16"},
        {"connection_cost_ms -1", kStore + kAccount + "connection_cost_ms = -1\n",
         f + "7: account.connection_cost_ms", "between 0 and 60000"},
        {"connection_cost_ms as float", kStore + kAccount + "connection_cost_ms = 0.5\n",
         f + "7: account.connection_cost_ms", "expected an integer"},
        {"tls_verify not bool", kStore + kAccount + "tls_verify = \"no\"\n", f + "7: account.tls_verify", "true or false"},
        {"unknown account key", kStore + kAccount + "tls_verfy = true\n", f + "7: account.tls_verfy", "unknown key"},
        {"unknown store key", kStore + "compress = true\n" + kAccount, f + "3: store.compress", "unknown key"},
        {"unknown top-level key", "debug = true\n" + kStore + kAccount, f + "1: debug", "unknown key"},
        {"missing host", kStore + "[[account]]\nname = \"a\"\nuser = \"u\"\n", f + "3: account.host", "missing"},
        {"missing user", kStore + "[[account]]\nname = \"a\"\nhost = \"h\"\n", f + "3: account.user", "missing"},
        {"missing name", kStore + "[[account]]\nhost = \"h\"\nuser = \"u\"\n", f + "3: account.name", "missing"},
        {"unsafe name", kStore + "[[account]]\nname = \"../etc\"\nhost = \"h\"\nuser = \"u\"\n",
         f + "4: account.name", "folder"},
        {"duplicate name", kStore + kAccount + kAccount, f + "8: account.name", "duplicate account name \"work\""},
        {"two password sources", kStore + kAccount + "password = \"x\"\npassword_command = \"pass show x\"\n",
         f + "8: account.password_command", "only one of password, password_file, password_command"},
        {"file and command", kStore + kAccount + "password_file = \"p\"\npassword_command = \"c\"\n",
         f + "8: account.password_command", "only one of"},
        {"xoauth2 without token", kStore + kAccount + "auth = \"xoauth2\"\n", f + "7: account.auth",
         "needs oauth2_token_command"},
        {"token without oauth", kStore + kAccount + "oauth2_token_command = \"t\"\n",
         f + "7: account.oauth2_token_command", "xoauth2"},
        {"bad provider", kStore + kAccount + "provider = \"yahoo\"\n", f + "7: account.provider",
         "expected one of \"google\", \"microsoft\", not \"yahoo\""},
        {"oauth2 without a client or command", kStore + kAccount + "auth = \"oauth2\"\n", f + "7: account.auth",
         "needs oauth2_token_command, or oauth2_client_id with provider or oauth2_token_url"},
        {"oauth2 client id without endpoint", kStore + kAccount + "auth = \"oauth2\"\noauth2_client_id = \"c\"\n",
         f + "8: account.oauth2_client_id", "needs provider or oauth2_token_url"},
        {"oauth2 key without oauth auth", kStore + kAccount + "oauth2_client_id = \"c\"\n",
         f + "7: account.oauth2_client_id", "only used with auth = \"oauth2\""},
        {"oauth2 client and token command", kStore + kAccount + "auth = \"oauth2\"\noauth2_token_command = \"t\"\n"
                                            "oauth2_client_id = \"c\"\nprovider = \"google\"\n",
         f + "9: account.oauth2_client_id", "oauth2_token_command already gives the tokens"},
        {"two client secrets", kStore + kAccount + "auth = \"oauth2\"\nprovider = \"google\"\noauth2_client_id = \"c\"\n"
                               "oauth2_client_secret = \"s\"\noauth2_client_secret_command = \"pass s\"\n",
         f + "11: account.oauth2_client_secret_command", "only one of oauth2_client_secret and"},
        {"two refresh token sources", kStore + kAccount + "auth = \"oauth2\"\nprovider = \"google\"\noauth2_client_id = \"c\"\n"
                                      "oauth2_refresh_token_command = \"r\"\noauth2_refresh_token_file = \"f\"\n",
         f + "11: account.oauth2_refresh_token_file", "only one of oauth2_refresh_token_command and"},
        {"store command without a command source",
         kStore + kAccount + "auth = \"oauth2\"\nprovider = \"google\"\noauth2_client_id = \"c\"\n"
                             "oauth2_refresh_token_store_command = \"pass insert -m x\"\n",
         f + "10: account.oauth2_refresh_token_store_command", "only used with oauth2_refresh_token_command"},
        {"plain http token url", kStore + kAccount + "auth = \"oauth2\"\noauth2_client_id = \"c\"\n"
                                 "oauth2_token_url = \"http://auth.example/token\"\n",
         f + "9: account.oauth2_token_url", "https://"},
        {"mailboxes not array", kStore + kAccount + "mailboxes = \"INBOX\"\n", f + "7: account.mailboxes",
         "array of strings"},
        {"mailboxes empty", kStore + kAccount + "mailboxes = []\n", f + "7: account.mailboxes", "at least one"},
        {"exclude with number", kStore + kAccount + "exclude = [\"Junk\", 3]\n", f + "7: account.exclude",
         "non-empty strings"},
        {"timeout zero", kStore + kAccount + "timeout = 0\n", f + "7: account.timeout", "between 1 and"},
        {"retries negative", kStore + kAccount + "retries = -1\n", f + "7: account.retries", "between 0 and 100"},
        {"retries fractional", kStore + kAccount + "retries = 1.5\n", f + "7: account.retries", "an integer"},
        {"retry_delay as string", kStore + kAccount + "retry_delay = \"5s\"\n", f + "7: account.retry_delay",
         "expected a number between 0 and 600"},
        {"retry_delay negative", kStore + kAccount + "retry_delay = -0.5\n", f + "7: account.retry_delay",
         "between 0 and 600"},
        {"top-level retries too many", "retries = 1000\n" + kStore + kAccount, f + "1: retries", "between 0 and 100"},
        {"empty string", kStore + kAccount + "ca_file = \"\"\n", f + "7: account.ca_file", "must not be empty"},
        {"ssh unknown key", kStore + kAccount + "[account.ssh]\ncommand = \"imap\"\nproxy = \"x\"\n",
         f + "9: account.ssh.proxy", "unknown key"},
        {"ssh bad port", kStore + kAccount + "[account.ssh]\nport = 0\ncommand = \"imap\"\n", f + "8: account.ssh.port",
         "between 1 and 65535"},
        {"ssh bad forward", kStore + kAccount + "[account.ssh]\nforward = \"127.0.0.1\"\n",
         f + "8: account.ssh.forward", "host:port"},
        {"ssh forward port range", kStore + kAccount + "[account.ssh]\nforward = \"h:99999\"\n",
         f + "8: account.ssh.forward", "host:port"},
        {"ssh command and forward", kStore + kAccount + "[account.ssh]\ncommand = \"imap\"\nforward = \"h:143\"\n",
         f + "9: account.ssh.forward", "only one of command and forward"},
        {"ssh neither", kStore + kAccount + "[account.ssh]\nhost = \"h\"\n", f + "7: account.ssh.command",
         "set command"},
        {"ssh accept not bool", kStore + kAccount + "[account.ssh]\ncommand = \"i\"\naccept_new_host_key = 1\n",
         f + "9: account.ssh.accept_new_host_key", "true or false"},
        {"ssh as value", kStore + kAccount + "ssh = \"host\"\n", f + "7: account.ssh", "expected a table"},
        {"ssh unknown engine", kStore + kAccount + "[account.ssh]\ncommand = \"i\"\nengine = \"putty\"\n",
         f + "9: account.ssh.engine", "expected one of \"libssh2\", \"openssh\""},
        {"ssh openssh with passphrase_command (ssh runs in BatchMode)",
         kStore + kAccount + "[account.ssh]\ncommand = \"i\"\nengine = \"openssh\"\npassphrase_command = \"pass k\"\n",
         f + "10: account.ssh.passphrase_command", "cannot be used with engine = \"openssh\""},
        {"ssh openssh with password_command",
         kStore + kAccount + "[account.ssh]\nengine = \"openssh\"\npassword_command = \"pass k\"\ncommand = \"i\"\n",
         f + "9: account.ssh.password_command", "ssh-agent"},
        {"ssh_config with the libssh2 engine", kStore + kAccount + "[account.ssh]\ncommand = \"i\"\nssh_config = \"none\"\n",
         f + "9: account.ssh.ssh_config", "applies to engine = \"openssh\" only"},
        {"missing store", kAccount, f + "1: store.path", "missing"},
        {"missing store path", "[store]\n" + kAccount, f + "1: store.path", "missing"},
        {"no account", kStore, f + "1: account", "missing"},
        {"account not array", kStore + "[account]\nname = \"x\"\n", f + "3: account", "[[account]]"},
        {"syntax error", kStore + kAccount + "port = = 1\n", f + "7: syntax error", ""},
        {"tls_fingerprint not a fingerprint", kStore + kAccount + "tls_fingerprint = [\"sha1:AB\"]\n",
         f + "7: account.tls_fingerprint", "is not a SHA-256 fingerprint"},
        {"tls_fingerprint not an array", kStore + kAccount + "tls_fingerprint = \"ab\"\n",
         f + "7: account.tls_fingerprint", "expected an array of strings"},
        {"unknown key close to a known one", kStore + kAccount + "tls_verfy = true\n", f + "7: account.tls_verfy",
         "unknown key (did you mean \"tls_verify\"?)"},
        {"unknown store key close to path", kStore + "pth = \"x\"\n" + kAccount, f + "3: store.pth",
         "did you mean \"path\"?"},
        {"catalog neither sqlite nor PostgreSQL", kStore + "catalog = \"mysql://db\"\n" + kAccount,
         f + "3: store.catalog", "expected \"sqlite\" or a PostgreSQL connection string"},
        {"catalog_schema with the SQLite catalog", kStore + "catalog_schema = \"a\"\n" + kAccount,
         f + "3: store.catalog_schema", "only for a PostgreSQL catalog"},
        {"catalog_schema not a plain name",
         kStore + "catalog = \"postgresql://db/mail\"\ncatalog_schema = \"Mail-1\"\n" + kAccount,
         f + "4: store.catalog_schema", "lower-case letters, digits and _"},
        {"catalog_schema starting with a digit",
         kStore + "catalog = \"host=db\"\ncatalog_schema = \"1a\"\n" + kAccount, f + "4: store.catalog_schema",
         "not first a digit"},
        {"unknown key far from every key", kStore + kAccount + "colour = \"red\"\n", f + "7: account.colour",
         "unknown key; known keys here:"},
        {"unterminated string", kStore + kAccount + "password = \"abc\n", f + "7: syntax error",
         "unterminated string: the closing \" is missing"},
        {"unterminated array", kStore + kAccount + "mailboxes = [\"INBOX\"\n", f + "7: syntax error",
         "the closing ] is missing"},
        {"command with starttls and no host",
         kStore + "[[account]]\nname = \"a\"\ncommand = \"nc imap.example.com 143\"\ntls = \"starttls\"\n",
         f + "6: account.tls", "checks the server's certificate against host: set host"},
        {"command with implicit tls and no host",
         kStore + "[[account]]\nname = \"a\"\ncommand = \"openssl s_client\"\ntls = \"implicit\"\n",
         f + "6: account.tls", "set host"},
        {"ssh exec command with tls (the SSH channel carries IMAP; TLS would be ignored)",
         kStore + "[[account]]\nname = \"a\"\nhost = \"h\"\ntls = \"starttls\"\n"
                  "[account.ssh]\ncommand = \"dovecot --exec-mail imap\"\n",
         f + "6: account.tls", "does not apply to ssh.command"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        std::string message = error_of(c.text);
        INFO(message);
        CHECK(message.rfind(c.location + ": ", 0) == 0);
        CHECK(message.find(c.detail) != std::string::npos);
    }
}

TEST_CASE("a valid config fills ConnectOptions and AccountConfig", "[config]") {
    ::setenv("HOME", "/home/tester", 1);
    const std::string text = R"(
[store]
path = "backups"          # relative to the config's folder

[[account]]
name = "work"
host = "imap.example.com"
user = "me@example.com"
password_file = "~/.secret"
mailboxes = ["INBOX", "Archive/*"]
exclude = ["Junk"]
expunged = "mirror"
connections = 8
connection_cost_ms = 0
timeout = 60
tls_verify = false
ca_file = "certs/ca.pem"
tls_fingerprint = ["sha256:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"]

[[account]]
name = "home"
host = "mail.home.lan"
tls = "starttls"
user = "me"
auth = "xoauth2"
oauth2_token_command = "oauth2 token"

[[account]]
name = "tunnel"
user = "me"
[account.ssh]
host = "gate.example.com"
port = 2222
user = "sshme"
identity = "~/.ssh/id_ed25519"
forward = "127.0.0.1:143"
accept_new_host_key = true
timeout = 15

[[account]]
name = "exec"
[account.ssh]
host = "mail.home.lan"
user = "me"
command = "/usr/lib/dovecot/imap"
)";
    Config c = parse_config(text, "/etc/imapkeep/config.toml");
    CHECK(c.store_path == "/etc/imapkeep/backups");
    REQUIRE(c.accounts.size() == 4);

    const auto& work = c.accounts[0];
    CHECK(work.name == "work");
    CHECK(work.connect.host == "imap.example.com");
    CHECK(work.connect.port == 993);
    CHECK(work.connect.tls == TlsMode::Implicit);
    CHECK_FALSE(work.connect.tls_options.verify);
    CHECK(work.connect.tls_options.ca_file == "/etc/imapkeep/certs/ca.pem");
    REQUIRE(work.connect.tls_options.pinned_sha256.size() == 1);
    CHECK(work.connect.tls_options.pinned_sha256[0].rfind("sha256:AB:CD", 0) == 0);
    CHECK(work.connect.user == "me@example.com");
    CHECK(work.mailboxes == std::vector<std::string>{"INBOX", "Archive/*"});
    CHECK(work.exclude == std::vector<std::string>{"Junk"});
    CHECK(work.expunged == imapkeep::sync::ExpungedPolicy::Mirror);
    CHECK(work.connections == 8);
    CHECK(work.connection_cost == std::chrono::microseconds(0));
    CHECK(work.connect.read_timeout == std::chrono::milliseconds(60000));
    CHECK(work.connect.connect_timeout == std::chrono::milliseconds(60000));
    CHECK_FALSE(work.connect.ssh);
    // Lazy: the file does not exist, and loading did not try to read it.
    REQUIRE(work.connect.password);
    CHECK_THROWS_WITH(work.connect.password(), Catch::Contains("account work: password_file") &&
                                                   Catch::Contains("/home/tester/.secret"));
    REQUIRE(c.warnings.size() == 1);
    CHECK(c.warnings[0].find("account work: tls_verify = false") != std::string::npos);

    const auto& home = c.accounts[1];
    CHECK(home.connect.tls == TlsMode::StartTls);
    CHECK(home.connect.port == 143);
    CHECK(home.connect.auth == "xoauth2");
    CHECK(home.connect.oauth2_token);
    CHECK(home.mailboxes == std::vector<std::string>{"*"});
    CHECK(home.expunged == imapkeep::sync::ExpungedPolicy::Keep);
    CHECK(home.connections == 4);
    CHECK(home.connection_cost == std::chrono::milliseconds(50));

    const auto& tunnel = c.accounts[2];
    REQUIRE(tunnel.connect.ssh);
    CHECK(tunnel.connect.host == "gate.example.com");
    CHECK(tunnel.connect.tls == TlsMode::None);
    CHECK(tunnel.connect.allow_plaintext_auth);
    CHECK(tunnel.connect.ssh->host == "gate.example.com");
    CHECK(tunnel.connect.ssh->port == 2222);
    CHECK(tunnel.connect.ssh->user == "sshme");
    CHECK(tunnel.connect.ssh->identity == "/home/tester/.ssh/id_ed25519");
    CHECK(tunnel.connect.ssh->known_hosts == "/home/tester/.ssh/known_hosts");
    CHECK(tunnel.connect.ssh->forward_host == "127.0.0.1");
    CHECK(tunnel.connect.ssh->forward_port == 143);
    CHECK(tunnel.connect.ssh->command.empty());
    CHECK(tunnel.connect.ssh->accept_new_host_key);
    CHECK(tunnel.connect.ssh->read_timeout == std::chrono::milliseconds(15000));

    const auto& exec = c.accounts[3];
    REQUIRE(exec.connect.ssh);
    CHECK(exec.connect.ssh->command == "/usr/lib/dovecot/imap");
    CHECK(exec.connect.ssh->port == 22);
    CHECK(exec.connect.tls == TlsMode::None);
    CHECK(exec.connect.user.empty());  // PREAUTH: no IMAP login
    CHECK(exec.connect.host == "mail.home.lan");
    CHECK(exec.connect.ssh->engine == imapkeep::transport::SshEngine::Libssh2);  // the default
}

TEST_CASE("[account.ssh] engine and ssh_config", "[config][ssh]") {
    using imapkeep::transport::SshEngine;
    struct Case {
        const char* name;
        std::string keys;
        SshEngine engine;
        std::string ssh_config;
    };
    const std::vector<Case> cases = {
        {"default", "", SshEngine::Libssh2, ""},
        {"libssh2", "engine = \"libssh2\"\n", SshEngine::Libssh2, ""},
        {"openssh reads ssh's own files", "engine = \"openssh\"\n", SshEngine::OpenSsh, ""},
        {"openssh, no ssh_config", "engine = \"openssh\"\nssh_config = \"none\"\n", SshEngine::OpenSsh, "none"},
        {"openssh, a relative ssh_config", "engine = \"openssh\"\nssh_config = \"ssh/config\"\n", SshEngine::OpenSsh,
         "/etc/imapkeep/ssh/config"},
    };
    for (const Case& c : cases) {
        SECTION(c.name) {
            Config config = parse_config(kStore + kAccount + "[account.ssh]\ncommand = \"imap\"\n" + c.keys,
                                         "/etc/imapkeep/config.toml");
            const auto& ssh = config.accounts.at(0).connect.ssh;
            REQUIRE(ssh);
            CHECK(ssh->engine == c.engine);
            CHECK(ssh->ssh_config == c.ssh_config);
        }
    }
}

TEST_CASE("retries and retry_delay: defaults, top level, per account", "[config][retry]") {
    const std::string text = "retries = 5\nretry_delay = 0.05\n" + kStore + kAccount + "retries = 0\n" +
                             "[[account]]\nname = \"home\"\nhost = \"h\"\nuser = \"u\"\nretry_delay = 2\n";
    Config c = parse_config(text, "t.toml");
    CHECK(c.retry_for("work").retries == 0);
    CHECK(c.retry_for("work").delay_seconds == 0.05);
    CHECK(c.retry_for("home").retries == 5);
    CHECK(c.retry_for("home").delay_seconds == 2.0);
    Config plain = parse_config(kStore + kAccount, "t.toml");
    CHECK(plain.retry_for("work").retries == 3);
    CHECK(plain.retry_for("work").delay_seconds == 5.0);
    CHECK(plain.retry_for("work").settle_seconds == 1.0);
}

TEST_CASE("restore_settle: default, top level, per account, bounds", "[config][retry]") {
    Config c = parse_config("restore_settle = 0.1\n" + kStore + kAccount + "restore_settle = 30\n" +
                                "[[account]]\nname = \"home\"\nhost = \"h\"\nuser = \"u\"\n",
                            "t.toml");
    CHECK(c.retry_for("work").settle_seconds == 30.0);
    CHECK(c.retry_for("home").settle_seconds == 0.1);
    for (const char* bad : {"restore_settle = -1\n", "restore_settle = 601\n", "restore_settle = \"1s\"\n"}) {
        INFO(bad);
        CHECK_THROWS_WITH(parse_config(kStore + kAccount + bad, "t.toml"),
                          Catch::Contains("account.restore_settle"));
    }
}

TEST_CASE("ports default by TLS mode and IPv6 forward targets parse", "[config]") {
    struct Case {
        const char* extra;
        int port;
        TlsMode tls;
    };
    const Case cases[] = {
        {"", 993, TlsMode::Implicit},
        {"tls = \"implicit\"\n", 993, TlsMode::Implicit},
        {"tls = \"starttls\"\n", 143, TlsMode::StartTls},
        {"tls = \"none\"\n", 143, TlsMode::None},
        {"tls = \"starttls\"\nport = 1143\n", 1143, TlsMode::StartTls},
    };
    for (const auto& c : cases) {
        INFO(c.extra);
        Config config = parse_config(kStore + kAccount + c.extra, "t.toml");
        CHECK(config.accounts[0].connect.port == c.port);
        CHECK(config.accounts[0].connect.tls == c.tls);
        CHECK(config.warnings.empty());
    }
    Config v6 = parse_config(kStore + kAccount + "[account.ssh]\nforward = \"[::1]:993\"\n", "t.toml");
    CHECK(v6.accounts[0].connect.ssh->forward_host == "::1");
    CHECK(v6.accounts[0].connect.ssh->forward_port == 993);
}

TEST_CASE("pacing keys and provider presets; an explicit key wins over the preset", "[config][budget]") {
    auto account = [](const std::string& keys) {
        return parse_config("[store]\npath = \"/s\"\n[[account]]\nname = \"a\"\nhost = \"h\"\nuser = \"u\"\n"
                            "password = \"p\"\n" + keys + "\n",
                            "/etc/c.toml")
            .accounts.at(0);
    };
    struct Case {
        const char* what;
        std::string keys;
        int connections;
        double bytes_per_second, messages_per_second;
        std::uint64_t daily_mb;
    };
    const Case cases[] = {
        {"defaults: no limits", "", 4, 0, 0, 0},
        {"explicit keys", "max_bytes_per_second = 40000\nmax_messages_per_second = 0.5\ndaily_download_mb = 100", 4,
         40000, 0.5, 100},
        {"google: 2,500 MB a day, at most 15 connections", "provider = \"google\"", 4, 0, 0, 2500},
        {"google caps no explicit connections", "provider = \"google\"\nconnections = 16", 16, 0, 0, 2500},
        {"google with a budget of its own", "provider = \"google\"\ndaily_download_mb = 1000", 4, 0, 0, 1000},
        {"google without a budget", "provider = \"google\"\ndaily_download_mb = 0", 4, 0, 0, 0},
        {"microsoft: about 1 message a second", "provider = \"microsoft\"", 4, 0, 1, 0},
        {"microsoft, faster by choice", "provider = \"microsoft\"\nmax_messages_per_second = 3", 4, 0, 3, 0},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        auto a = account(c.keys);
        CHECK(a.connections == c.connections);
        CHECK(a.pacing.max_bytes_per_second == c.bytes_per_second);
        CHECK(a.pacing.max_messages_per_second == c.messages_per_second);
        CHECK(a.pacing.daily_download_bytes == c.daily_mb * 1024 * 1024);
    }
    CHECK_THROWS_WITH(account("provider = \"yahoo\""),
                      Catch::Contains("account.provider: expected one of \"google\", \"microsoft\""));
    CHECK_THROWS_WITH(account("max_messages_per_second = -1"), Catch::Contains("account.max_messages_per_second"));
}

TEST_CASE("daily_upload_mb: restore's budget; google sets 500 MB a day, an explicit key wins",
          "[config][budget]") {
    auto upload = [](const std::string& keys) {
        return parse_config(
                   "[store]\npath = \"/s\"\n[[account]]\nname = \"a\"\nhost = \"h\"\nuser = \"u\"\n"
                   "password = \"p\"\n" +
                       keys + "\n",
                   "/etc/c.toml")
            .accounts.at(0)
            .pacing.daily_upload_bytes;
    };
    constexpr std::uint64_t kMb = 1024 * 1024;
    CHECK(upload("") == 0);
    CHECK(upload("daily_upload_mb = 40") == 40 * kMb);
    CHECK(upload("provider = \"google\"") == 500 * kMb);
    CHECK(upload("provider = \"google\"\ndaily_upload_mb = 100") == 100 * kMb);
    CHECK(upload("provider = \"google\"\ndaily_upload_mb = 0") == 0);
    CHECK(upload("provider = \"microsoft\"") == 0);
    CHECK_THROWS_WITH(upload("daily_upload_mb = -1"), Catch::Contains("account.daily_upload_mb"));
}

TEST_CASE("store.catalog: SQLite by default, or a PostgreSQL URI or key=value string", "[config]") {
    struct Case {
        const char* lines;
        const char* postgres;
        const char* schema;
    };
    const Case cases[] = {
        {"", "", "imapkeep"},
        {"catalog = \"sqlite\"\n", "", "imapkeep"},
        {"catalog = \"postgresql://backup@db/mail\"\n", "postgresql://backup@db/mail", "imapkeep"},
        {"catalog = \"postgres://db\"\ncatalog_schema = \"host_7\"\n", "postgres://db", "host_7"},
        {"catalog = \"host=db dbname=mail\"\n", "host=db dbname=mail", "imapkeep"},
    };
    for (const auto& c : cases) {
        INFO(c.lines);
        Config config = parse_config(kStore + c.lines + kAccount, "/etc/imapkeep/test.toml");
        CHECK(config.catalog_postgres == c.postgres);
        CHECK(config.catalog_schema == c.schema);
    }
}

TEST_CASE("store.backend: local by default, or postgres+s3 with its [store.s3] table", "[config]") {
    const std::string pg = "catalog = \"postgresql://backup@db/mail\"\n";
    const std::string s3 =
        "[store.s3]\nendpoint = \"https://s3.example.org\"\nbucket = \"mail\"\n"
        "access_key = \"AKID\"\nsecret_key_command = \"echo s3cret-key\"\n";
    CHECK(parse_config(kStore + kAccount, "/etc/imapkeep/t.toml").store_backend == "local");
    // An empty [store.s3] (config.example.toml's) is no error with the local backend.
    CHECK(parse_config(kStore + "[store.s3]\n" + kAccount, "/etc/imapkeep/t.toml").store_backend ==
          "local");

    Config config = parse_config(kStore + "backend = \"postgres+s3\"\n" + pg + s3 +
                                     "prefix = \"host-1/\"\nregion = \"eu-west-1\"\n" + kAccount,
                                 "/etc/imapkeep/t.toml");
    CHECK(config.store_backend == "postgres+s3");
    CHECK(config.s3.endpoint == "https://s3.example.org");
    CHECK(config.s3.bucket == "mail");
    CHECK(config.s3.prefix == "host-1/");
    CHECK(config.s3.region == "eu-west-1");
    CHECK(config.s3.access_key == "AKID");
    CHECK(config.s3.secret_key() == "s3cret-key");

    auto error = [&](const std::string& text) {
        try {
            parse_config(text, "/etc/imapkeep/t.toml");
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    CHECK_THAT(error(kStore + "backend = \"s3\"\n" + kAccount),
               Catch::Contains("store.backend: expected one of \"local\", \"postgres+s3\""));
    CHECK_THAT(error(kStore + "backend = \"postgres+s3\"\n" + s3 + kAccount),
               Catch::Contains("store.backend: \"postgres+s3\" keeps the catalog in PostgreSQL"));
    CHECK_THAT(error(kStore + "backend = \"postgres+s3\"\n" + pg + kAccount),
               Catch::Contains("needs a [store.s3] table"));
    CHECK_THAT(error(kStore + "[store.s3]\nbucket = \"b\"\n" + kAccount),
               Catch::Contains("store.s3: only for backend = \"postgres+s3\""));
    const std::string backend = "backend = \"postgres+s3\"\n" + pg;
    CHECK_THAT(error(kStore + backend + "[store.s3]\nendpoint = \"http://h\"\nbucket = \"b\"\n" +
                     "access_key = \"k\"\n" + kAccount),
               Catch::Contains("store.s3.secret_key_command: missing"));
    CHECK_THAT(error(kStore + backend + s3 + "secret_key_file = \"/k\"\n" + kAccount),
               Catch::Contains("only one of secret_key_command and secret_key_file"));
    CHECK_THAT(error(kStore + backend + s3 + "path_style = false\n" + kAccount),
               Catch::Contains("store.s3.path_style: only path-style addressing"));
    CHECK_THAT(error(kStore + backend + "[store.s3]\nendpoint = \"s3.example.org\"\nbucket = \"b\"\n" +
                     "access_key = \"k\"\nsecret_key_command = \"c\"\n" + kAccount),
               Catch::Contains("store.s3.endpoint: expected an http:// or https:// URL"));
    CHECK_THAT(error(kStore + backend + s3 + "secret_key = \"x\"\n" + kAccount),
               Catch::Contains("store.s3.secret_key: unknown key"));
}

TEST_CASE("default config path follows XDG", "[config]") {
    ::setenv("HOME", "/home/tester", 1);
    ::setenv("XDG_CONFIG_HOME", "/xdg", 1);
    CHECK(imapkeep::cli::default_config_path() == "/xdg/imapkeep/config.toml");
    ::unsetenv("XDG_CONFIG_HOME");
    CHECK(imapkeep::cli::default_config_path() == "/home/tester/.config/imapkeep/config.toml");
}

TEST_CASE("load_config names an unreadable file", "[config]") {
    CHECK_THROWS_WITH(imapkeep::cli::load_config("/nonexistent/imapkeep.toml"),
                      Catch::StartsWith("/nonexistent/imapkeep.toml: cannot read"));
}

TEST_CASE("config.example.toml parses, and documents every key the parser knows", "[config]") {
    const std::string example = IMAPKEEP_SOURCE_DIR "/config.example.toml";
    Config c = imapkeep::cli::load_config(example);
    REQUIRE(c.accounts.size() == 2);
    CHECK(c.accounts[0].name == "work");
    CHECK(c.accounts[0].exclude == std::vector<std::string>{"Junk", "Trash"});
    CHECK(c.accounts[1].connect.ssh->command == "/usr/lib/dovecot/imap");
    CHECK(c.warnings.empty());

    std::ifstream in(example);
    std::stringstream text;
    text << in.rdbuf();
    // Each table's text: the lines under its [header] or [[header]] ("" before
    // the first one), all tables of one name together.
    std::map<std::string, std::string> tables;
    std::string current;
    for (std::string line; std::getline(text, line);) {
        std::smatch header;
        if (std::regex_match(line, header, std::regex(R"(\[\[?([a-z0-9.]+)\]\]?\s*)"))) {
            current = header[1];
            tables[current];  // a table may hold nothing but comments
            continue;
        }
        tables[current] += line + "\n";
    }
    // Every key the loader accepts, in its own table: "key =" or, commented
    // out, "# key =" at the start of a line; a key holding a table has a header.
    const auto accepted = imapkeep::cli::accepted_config_keys();
    REQUIRE(accepted.size() == 5);
    for (const auto& [table, keys] : accepted) {
        for (const auto& key : keys) {
            const std::string full = table.empty() ? key : table + "." + key;
            INFO("config.example.toml does not document " << full);
            if (accepted.count(full)) {
                CHECK(tables.count(full));
                continue;
            }
            std::regex documented("(^|\\n)(# )?" + key + " = ");
            CHECK(std::regex_search(tables[table], documented));
        }
    }
}

TEST_CASE("accepted_config_keys lists exactly the keys the loader does not call unknown", "[config]") {
    const auto accepted = imapkeep::cli::accepted_config_keys();
    CHECK(accepted.at("").count("store"));
    CHECK(accepted.at("").count("account"));
    CHECK(accepted.at("account").count("ssh"));
    CHECK(accepted.at("store") ==
          std::set<std::string>{"path", "catalog", "catalog_schema", "backend", "s3"});
    CHECK(accepted.at("store.s3") ==
          std::set<std::string>{"endpoint", "bucket", "region", "prefix", "access_key",
                                "secret_key_command", "secret_key_file", "path_style", "ca_file",
                                "gc_grace"});
    // Each table's text, with "KEY = 0" put in: a listed key may be refused
    // for its value, never as unknown; an unlisted one is unknown.
    auto config_with = [](const std::string& table, const std::string& line) {
        std::string top = table.empty() ? line : "";
        std::string store = table == "store" ? line : "";
        std::string account = table == "account" ? line : "";
        std::string ssh = table == "account.ssh" ? line : "";
        // [store.s3] is read only for backend = "postgres+s3".
        std::string s3 = table == "store.s3"
                             ? "backend = \"postgres+s3\"\ncatalog = \"postgresql://h/d\"\n"
                               "[store.s3]\nendpoint = \"http://h\"\nbucket = \"b\"\n"
                               "access_key = \"k\"\nsecret_key_command = \"c\"\n" + line
                             : "";
        return top + "[store]\npath = \"/s\"\n" + store + s3 + "[[account]]\nname = \"a\"\n" +
               account + "[account.ssh]\nhost = \"h\"\nuser = \"u\"\ncommand = \"imap\"\n" + ssh;
    };
    for (const auto& [table, keys] : accepted) {
        for (const auto& key : keys) {
            if (accepted.count(table.empty() ? key : table + "." + key)) continue;  // a table
            INFO(table << "." << key);
            // Replacing a key that is already there would be a duplicate: skip those.
            if (config_with(table, "").find("\n" + key + " = ") != std::string::npos) continue;
            CHECK(error_of(config_with(table, key + " = 0\n")).find("unknown key") == std::string::npos);
        }
        INFO(table);
        CHECK(error_of(config_with(table, "not_a_key_at_all = 0\n")).find("unknown key") != std::string::npos);
    }
}

TEST_CASE("an explicit tls with command is honoured, not ignored", "[config]") {
    struct Case {
        const char* extra;
        TlsMode tls;
    } const cases[] = {
        {"", TlsMode::None},  // no tls key: the command is a trusted PREAUTH channel
        {"tls = \"none\"\n", TlsMode::None},
        {"tls = \"starttls\"\n", TlsMode::StartTls},
        {"tls = \"implicit\"\n", TlsMode::Implicit},
    };
    for (const auto& c : cases) {
        INFO(c.extra);
        Config config = parse_config(kStore + kAccount + "command = \"nc imap.example.com 143\"\n" + c.extra, "t.toml");
        const auto& o = config.accounts[0].connect;
        CHECK(o.command == "nc imap.example.com 143");
        CHECK(o.tls == c.tls);
        CHECK(o.host == "imap.example.com");
    }
}

TEST_CASE("auth = oauth2: provider presets, explicit endpoints win, the token cache beside the config", "[config][oauth2]") {
    const std::string google = kStore +
                               "[[account]]\nname = \"g\"\nuser = \"me@gmail.com\"\nauth = \"oauth2\"\n"
                               "provider = \"google\"\noauth2_client_id = \"id.apps.googleusercontent.com\"\n"
                               "oauth2_client_secret_command = \"pass show google-client\"\n";
    Config g = parse_config(google, "/etc/imapkeep/config.toml");
    const auto& gc = g.accounts.at(0).connect;
    CHECK(gc.host == "imap.gmail.com");
    CHECK(gc.port == 993);
    CHECK(gc.auth == "oauth2");
    CHECK(gc.oauth2_token);
    CHECK(gc.oauth2_token_rejected);
    const auto& gs = g.oauth2.at("g");
    CHECK(gs.token_url == "https://oauth2.googleapis.com/token");
    CHECK(gs.device_url == "https://oauth2.googleapis.com/device/code");
    CHECK(gs.scopes == "https://mail.google.com/");
    CHECK(gs.client_id == "id.apps.googleusercontent.com");
    CHECK(gs.client_secret);
    CHECK(gs.cache_file == "/etc/imapkeep/g.oauth2.json");
    CHECK(gs.refresh_token_in_cache());
    // The secret comes from a command; only the token cache is a secret file.
    REQUIRE(g.secret_files.size() == 1);
    CHECK(g.secret_files[0].path == "/etc/imapkeep/g.oauth2.json");
    CHECK(g.secret_files[0].token);

    const std::string microsoft = kStore +
                                  "[[account]]\nname = \"m\"\nhost = \"imap.example.org\"\nuser = \"me@example.org\"\n"
                                  "auth = \"xoauth2\"\nprovider = \"microsoft\"\noauth2_client_id = \"c\"\n"
                                  "oauth2_client_secret = \"inline\"\n"
                                  "oauth2_token_url = \"https://login.example.org/token\"\n"
                                  "oauth2_refresh_token_file = \"tokens/m\"\noauth2_token_cache = \"~/m.json\"\n"
                                  "oauth2_ca_file = \"ca.pem\"\n";
    ::setenv("HOME", "/home/tester", 1);
    Config m = parse_config(microsoft, "/etc/imapkeep/config.toml");
    CHECK(m.accounts.at(0).connect.host == "imap.example.org");
    const auto& ms = m.oauth2.at("m");
    CHECK(ms.token_url == "https://login.example.org/token");
    CHECK(ms.device_url == "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode");
    CHECK_THAT(ms.scopes, Catch::Contains("offline_access"));
    CHECK(ms.refresh_token_file == "/etc/imapkeep/tokens/m");
    CHECK(ms.cache_file == "/home/tester/m.json");
    CHECK(ms.ca_file == "/etc/imapkeep/ca.pem");
    CHECK(ms.client_secret() == "inline");
    // The config holds a secret: it must be private; so must the token files.
    std::map<std::string, bool> secret_files;  // path -> token
    for (const auto& f : m.secret_files) secret_files[f.path] = f.token;
    CHECK(secret_files == std::map<std::string, bool>{{"/etc/imapkeep/config.toml", false},
                                                      {"/etc/imapkeep/tokens/m", true},
                                                      {"/home/tester/m.json", true}});

    // oauth2_token_command stays as it was: no OAuth2 client, no `imapkeep auth`.
    Config t = parse_config(kStore + kAccount + "auth = \"oauthbearer\"\noauth2_token_command = \"t\"\n", "t.toml");
    CHECK(t.oauth2.empty());
    CHECK(t.accounts[0].connect.oauth2_token);
    CHECK_FALSE(t.accounts[0].connect.oauth2_token_rejected);
    // A provider without OAuth2 still gives its host.
    Config p = parse_config(kStore + "[[account]]\nname = \"p\"\nuser = \"u\"\nprovider = \"google\"\n", "t.toml");
    CHECK(p.accounts[0].connect.host == "imap.gmail.com");
}

TEST_CASE("master_user: SASL PLAIN on behalf of user, refused with another mechanism", "[config]") {
    Config c = parse_config(kStore + kAccount + "master_user = \"backup\"\n", "t.toml");
    CHECK(c.accounts[0].connect.master_user == "backup");
    CHECK(c.accounts[0].connect.user == "me");
    CHECK(parse_config(kStore + kAccount + "master_user = \"b\"\nauth = \"plain\"\n", "t.toml")
              .accounts[0].connect.master_user == "b");
    CHECK_THROWS_WITH(parse_config(kStore + kAccount + "master_user = \"b\"\nauth = \"login\"\n", "t.toml"),
                      Catch::Contains("account.master_user"));
}
