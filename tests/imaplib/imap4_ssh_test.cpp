// IMAP4_ssh against the real sshd + Dovecot of scripts/test-env/up.sh.
// Skips (with a message) without IMAPKEEP_TEST_SSH_PORT.
#include <imapkeep/imaplib_ssh.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <variant>
#include "test_env.hpp"

namespace {

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr ? value : "";
}

bool have_servers() {
    return imapkeep::testing::test_env_has(
        {"IMAPKEEP_TEST_SSH_PORT", "IMAPKEEP_TEST_IMAP_PORT", "IMAPKEEP_TEST_SSH_IMAP_COMMAND"},
        "the test sshd and Dovecot");
}

imaplib::SshOptions ssh_options(imapkeep::transport::SshEngine engine = imapkeep::transport::SshEngine::Libssh2) {
    imaplib::SshOptions options;
    options.engine = engine;
    options.ssh_config = "none";
    options.port = std::stoi(env("IMAPKEEP_TEST_SSH_PORT"));
    options.user = env("IMAPKEEP_TEST_SSH_USER");
    options.identity = env("IMAPKEEP_TEST_SSH_KEY");
    options.known_hosts = env("IMAPKEEP_TEST_SSH_KNOWN_HOSTS");
    return options;
}

bool mentions(const imaplib::Response& response, const std::string& text) {
    for (const imaplib::Datum& datum : response.data) {
        if (const auto* line = std::get_if<std::string>(&datum); line && line->find(text) != std::string::npos) {
            return true;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("IMAP4_ssh exec mode behaves like IMAP4_stream (PREAUTH)", "[imaplib][ssh][integration]") {
    if (!have_servers()) {
        return;
    }
    // Both engines behind the one face (issue 10).
    const auto engine = GENERATE(imapkeep::transport::SshEngine::Libssh2, imapkeep::transport::SshEngine::OpenSsh);
    INFO("engine " << imapkeep::transport::engine_name(engine));
    imaplib::SshOptions options = ssh_options(engine);
    options.command = env("IMAPKEEP_TEST_SSH_IMAP_COMMAND");
    imaplib::IMAP4_ssh imap("127.0.0.1", options, 10.0);
    CHECK(imap.welcome.rfind("* PREAUTH", 0) == 0);
    CHECK(imap.state == "AUTH");
    CHECK(imap.host == "127.0.0.1");
    CHECK(imap.port == options.port);
    CHECK(imap.socket() >= 0);
    const imaplib::Response inbox = imap.select("INBOX", true);
    CHECK(inbox.type == "OK");
    CHECK(imap.state == "SELECTED");
    CHECK(imap.logout().type == "BYE");
}

TEST_CASE("IMAP4_ssh forward mode logs in through the tunnel", "[imaplib][ssh][integration]") {
    if (!have_servers()) {
        return;
    }
    // Both engines behind the one face (issue 10).
    const auto engine = GENERATE(imapkeep::transport::SshEngine::Libssh2, imapkeep::transport::SshEngine::OpenSsh);
    INFO("engine " << imapkeep::transport::engine_name(engine));
    imaplib::SshOptions options = ssh_options(engine);
    options.forward_host = "127.0.0.1";
    options.forward_port = std::stoi(env("IMAPKEEP_TEST_IMAP_PORT"));
    imaplib::IMAP4_ssh imap("127.0.0.1", options, 10.0);
    CHECK(imap.welcome.rfind("* OK", 0) == 0);
    CHECK(imap.state == "NONAUTH");
    const imaplib::Response login = imap.login(env("IMAPKEEP_TEST_USER"), env("IMAPKEEP_TEST_PASSWORD"));
    CHECK(login.type == "OK");
    CHECK(imap.state == "AUTH");
    const imaplib::Response list = imap.list();
    CHECK(list.type == "OK");
    CHECK(mentions(list, "INBOX"));
    imap.logout();
}

TEST_CASE("IMAP4_ssh reports SSH failures as abort or error", "[imaplib][ssh][integration]") {
    if (!have_servers()) {
        return;
    }
    // Both engines behind the one face (issue 10).
    const auto engine = GENERATE(imapkeep::transport::SshEngine::Libssh2, imapkeep::transport::SshEngine::OpenSsh);
    INFO("engine " << imapkeep::transport::engine_name(engine));
    struct Case {
        const char* name;
        std::string known_hosts;
        std::string identity;
        std::string command;
        std::string expect;
    };
    const std::vector<Case> cases = {
        {"unknown host key", "/nonexistent/known_hosts", env("IMAPKEEP_TEST_SSH_KEY"), "cat", "SHA256:"},
        {"wrong key", env("IMAPKEEP_TEST_SSH_KNOWN_HOSTS"), env("IMAPKEEP_TEST_SSH_WRONG_KEY"), "cat",
         engine == imapkeep::transport::SshEngine::OpenSsh ? "Permission denied (publickey)" : "rejected by server"},
        {"remote command missing", env("IMAPKEEP_TEST_SSH_KNOWN_HOSTS"), env("IMAPKEEP_TEST_SSH_KEY"),
         "/nonexistent/imap", "status 127"},
    };
    for (const Case& c : cases) {
        SECTION(c.name) {
            imaplib::SshOptions options = ssh_options(engine);
            options.known_hosts = c.known_hosts;
            options.identity = c.identity;
            options.command = c.command;
            try {
                imaplib::IMAP4_ssh imap("127.0.0.1", options, 5.0);
                FAIL("connected");
            } catch (const imaplib::IMAP4::abort& e) {
                INFO(e.what());
                CHECK(std::string(e.what()).find(c.expect) != std::string::npos);
            }
        }
    }
    SECTION("neither command nor forward target") {
        CHECK_THROWS_AS(imaplib::IMAP4_ssh("127.0.0.1", ssh_options(engine)), imaplib::IMAP4::error);
    }
}
