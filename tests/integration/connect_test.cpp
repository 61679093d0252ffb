// connect_and_login against the real Dovecot: every TLS mode and SASL
// mechanism the test server offers, and the failures sorted by kind.
#include <catch2/catch.hpp>

#include "integration/backup_support.hpp"
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

TEST_CASE("connect_and_login reaches Dovecot every way it offers", "[integration][connect]") {
    if (!testing::have_dovecot_env()) return;
    const std::string ca = env("IMAPKEEP_TEST_CA_FILE").value_or("");
    struct Case {
        const char* name;
        imap::TlsMode tls;
        const char* host;
        const char* auth;
    } cases[] = {
        {"implicit TLS, LOGIN", imap::TlsMode::Implicit, "localhost", ""},
        {"STARTTLS, AUTHENTICATE PLAIN", imap::TlsMode::StartTls, "localhost", "plain"},
        {"STARTTLS, AUTHENTICATE LOGIN", imap::TlsMode::StartTls, "localhost", "login"},
        {"implicit TLS, CRAM-MD5", imap::TlsMode::Implicit, "localhost", "cram-md5"},
        {"plain TCP (allowed), PLAIN", imap::TlsMode::None, "127.0.0.1", "plain"},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            auto o = dovecot_options();
            o.tls = c.tls;
            o.host = c.host;
            if (c.tls == imap::TlsMode::Implicit)
                o.port = std::stoi(env("IMAPKEEP_TEST_IMAPS_PORT").value_or("993"));
            o.tls_options.ca_file = ca;
            o.auth = c.auth;
            auto client = imap::connect_and_login(o);
            CHECK(client->state() == imap::State::Authenticated);
            // Capabilities were asked again after login: Dovecot only lists these then.
            CHECK(client->has_capability("QRESYNC"));
            client->noop();
            client->logout();
        }
    }
    SECTION("a local PREAUTH command needs no login") {
        imap::ConnectOptions o;
        o.command = env("IMAPKEEP_TEST_STREAM_COMMAND").value_or("");
        o.tls = imap::TlsMode::None;
        auto client = imap::connect_and_login(o);
        CHECK(client->state() == imap::State::Authenticated);
        client->logout();
    }
    SECTION("failures are sorted by kind") {
        auto wrong_name = dovecot_options();
        wrong_name.tls = imap::TlsMode::Implicit;
        wrong_name.port = std::stoi(env("IMAPKEEP_TEST_IMAPS_PORT").value_or("993"));
        wrong_name.tls_options.ca_file = ca;  // the cert is for localhost, not 127.0.0.1
        try {
            imap::connect_and_login(wrong_name);
            FAIL("connected despite a host name mismatch");
        } catch (const imap::ConnectError& e) {
            CHECK(e.kind() == imap::ConnectError::Kind::Tls);
        }
        auto plaintext = dovecot_options();
        plaintext.allow_plaintext_auth = false;
        try {
            imap::connect_and_login(plaintext);
            FAIL("sent a password in the clear");
        } catch (const imap::ConnectError& e) {
            CHECK(e.kind() == imap::ConnectError::Kind::Tls);
        }
        auto bad = dovecot_options();
        bad.password = [] { return std::string("not the password"); };
        bad.auth = "cram-md5";
        try {
            imap::connect_and_login(bad);
            FAIL("logged in with a wrong password");
        } catch (const imap::ConnectError& e) {
            CHECK(e.kind() == imap::ConnectError::Kind::Auth);
            CHECK(std::string(e.what()).find("not the password") == std::string::npos);
        }
        auto refused = dovecot_options();
        refused.port = 1;  // nothing listens there
        try {
            imap::connect_and_login(refused);
            FAIL("connected to a closed port");
        } catch (const imap::ConnectError& e) {
            CHECK(e.kind() == imap::ConnectError::Kind::Network);
            CHECK(e.transient());
        }
    }
}
