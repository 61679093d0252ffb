// A local command's stream with an explicit tls setting: TLS runs over it, and
// no password is sent before (the audit found `tls` silently ignored, so with
// command = "nc host 143" the password crossed the network in clear).
#include <catch2/catch.hpp>
#include <imapkeep/imap/connect.hpp>
#include <imapkeep/transport/fault.hpp>

using namespace imapkeep;

namespace {

// A plain-text server that offers STARTTLS and LOGIN; what the client wrote is
// kept in `written`. It cannot do TLS, so a handshake over it fails.
imap::ConnectOptions command_options(imap::TlsMode tls, std::shared_ptr<std::string> written) {
    imap::ConnectOptions o;
    o.command = "nc imap.example.com 143";
    o.host = "imap.example.com";
    o.tls = tls;
    o.user = "me";
    o.password = [] { return std::string("s3cret"); };
    o.stream_factory = [written] {
        auto buffer = std::make_shared<std::string>();
        return std::make_unique<transport::ScriptedStream>(
            "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n",
            [written, buffer](const std::string& in) {
                *written += in;
                *buffer += in;
                std::string out;
                std::size_t eol;
                while ((eol = buffer->find("\r\n")) != std::string::npos) {
                    std::string line = buffer->substr(0, eol);
                    buffer->erase(0, eol + 2);
                    std::string tag = line.substr(0, line.find(' '));
                    out += tag + " OK done\r\n";
                }
                return out;
            });
    };
    return o;
}

}  // namespace

TEST_CASE("tls with command runs TLS over the command's stream before any LOGIN",
          "[imap][connect]") {
    for (auto tls : {imap::TlsMode::StartTls, imap::TlsMode::Implicit}) {
        INFO("tls mode " << static_cast<int>(tls));
        auto written = std::make_shared<std::string>();
        try {
            imap::connect_and_login(command_options(tls, written));
            FAIL("connected without TLS");
        } catch (const imap::ConnectError& e) {
            CHECK(e.kind() == imap::ConnectError::Kind::Tls);
        }
        CHECK(written->find("s3cret") == std::string::npos);
        CHECK(written->find("LOGIN") == std::string::npos);
        if (tls == imap::TlsMode::StartTls)
            CHECK(written->find("STARTTLS\r\n") != std::string::npos);
        // Implicit: the handshake fails on the plain greeting; no IMAP is sent.
        if (tls == imap::TlsMode::Implicit)
            CHECK(written->find(" CAPABILITY") == std::string::npos);
    }
}

TEST_CASE("tls with command and no host is refused before anything is sent", "[imap][connect]") {
    auto written = std::make_shared<std::string>();
    auto o = command_options(imap::TlsMode::StartTls, written);
    o.host.clear();
    CHECK_THROWS_AS(imap::connect_and_login(o), imap::ConnectError);
    CHECK(written->empty());
}

TEST_CASE("a command without tls is still a trusted PREAUTH channel", "[imap][connect]") {
    auto written = std::make_shared<std::string>();
    auto o = command_options(imap::TlsMode::None, written);
    auto client = imap::connect_and_login(o);
    CHECK(client->state() == imap::State::Authenticated);
    CHECK(written->find("LOGIN me") != std::string::npos);
}
