#include <imapkeep/archive/export.hpp>

#include <catch2/catch.hpp>

using namespace imapkeep;
using namespace imapkeep::archive;

TEST_CASE("--url: scheme, user, host, port, mailbox", "[archive][url]") {
    struct Case {
        const char* url;
        bool plain;
        imap::TlsMode tls;
        const char* user;
        const char* host;
        int port;
        const char* mailbox;
    };
    const Case cases[] = {
        {"imaps://me@mail.example.com", false, imap::TlsMode::Implicit, "me", "mail.example.com", 993, ""},
        {"imaps://me@mail.example.com:1993/INBOX", false, imap::TlsMode::Implicit, "me", "mail.example.com", 1993, "INBOX"},
        {"imap://me@host", false, imap::TlsMode::StartTls, "me", "host", 143, ""},
        {"imap://me@localhost", true, imap::TlsMode::None, "me", "localhost", 143, ""},
        {"imap://me@127.0.0.1:10143", true, imap::TlsMode::None, "me", "127.0.0.1", 10143, ""},
        {"imap://me@127.3.2.1", true, imap::TlsMode::None, "me", "127.3.2.1", 143, ""},
        {"imap://me@[::1]", true, imap::TlsMode::None, "me", "::1", 143, ""},
        {"imaps://me%40example.com@host/Archive%2F2024", false, imap::TlsMode::Implicit, "me@example.com", "host", 993,
         "Archive/2024"},
        {"imaps://me@[::1]:10993/A/B", false, imap::TlsMode::Implicit, "me", "::1", 10993, "A/B"},
        {"imaps://me@host/", false, imap::TlsMode::Implicit, "me", "host", 993, ""},
    };
    for (const auto& c : cases) {
        INFO(c.url);
        auto u = parse_export_url(c.url, c.plain);
        CHECK(u.tls == c.tls);
        CHECK(u.user == c.user);
        CHECK(u.host == c.host);
        CHECK(u.port == c.port);
        CHECK(u.mailbox == c.mailbox);
    }
}

TEST_CASE("--url: refused forms", "[archive][url]") {
    for (const char* bad : {"http://me@host", "imaps://host", "imaps://@host", "imaps://me:secret@host",
                            "imaps://me@", "imaps://me@host:0", "imaps://me@host:70000", "imaps://me@host:99x",
                            "imaps://me@host:", "imaps://me;AUTH=*@host", "imaps://me@[::1", "imaps://me@host/%zz",
                            "imaps://me@host/%4"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_export_url(bad), std::invalid_argument);
    }
}

// --plaintext sends the password in clear: only to this machine, as its help
// says. A LAN server without TLS is an [[account]] with allow_plaintext_auth.
TEST_CASE("--url: --plaintext is refused for anything but a loopback host", "[archive][url]") {
    for (const char* bad : {"imap://me@host", "imap://me@mail.example.com", "imap://me@10.0.0.1",
                            "imap://me@localhost.example.com", "imap://me@127.0.0.1.example.com",
                            "imap://me@[::2]", "imap://me@128.0.0.1", "imap://me@0x7f.0.0.1"}) {
        INFO(bad);
        CHECK_THROWS_WITH(parse_export_url(bad, true), Catch::Contains("loopback"));
        CHECK_NOTHROW(parse_export_url(bad, false));
    }
}
