// STARTTLS stripping and response injection (the "NO STARTTLS" study, EAST
// test cases; reference/imap-clients.md §2): with TLS required, every way a
// server or a man in the middle can dodge the upgrade ends the connection
// before a credential is sent, and nothing sent in clear before the handshake
// is ever read as if it had come over TLS.
#include <imapkeep/imap/client.hpp>
#include <imapkeep/imap/connect.hpp>
#include <imapkeep/transport/fault.hpp>
#include <imapkeep/util/base64.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <utility>

#include "imap/starttls_cases.hpp"

using namespace imapkeep;
using namespace imapkeep::testing::starttls;

namespace {

imap::ConnectOptions starttls_options(const StartTlsCase& c, std::shared_ptr<std::string> written,
                                      std::shared_ptr<std::string> trace, const std::string& auth) {
    imap::ConnectOptions o;
    o.host = "imap.example.com";
    o.port = 143;
    o.tls = imap::TlsMode::StartTls;  // config: tls = "starttls"
    o.user = kUser;
    o.password = [] { return kPassword; };
    o.auth = auth;
    o.stream_factory = [c, written] { return serve(c, written); };
    o.client.trace = [trace](std::string_view line) { *trace += std::string(line) + "\n"; };
    return o;
}

}  // namespace

TEST_CASE("connect with tls = starttls refuses every dodge before a credential is sent",
          "[imap][starttls]") {
    auto all = cases();
    all.push_back(early_ok_in_greeting());
    for (const auto& c : all) {
        for (const std::string auth : {"", "plain"}) {
            INFO(c.name << " / auth '" << auth << "'");
            auto written = std::make_shared<std::string>();
            auto trace = std::make_shared<std::string>();
            try {
                imap::connect_and_login(starttls_options(c, written, trace, auth));
                FAIL("connected without TLS");
            } catch (const imap::ConnectError& e) {
                INFO(e.what());
                CHECK(e.kind() == imap::ConnectError::Kind::Tls);
            }
            check_no_credentials(*written);
            if (!c.handshake_may_start) CHECK_FALSE(handshake_started(*written));
            // What came in clear after the OK never reached the IMAP parser.
            CHECK(trace->find("S: * CAPABILITY IMAP4rev1 AUTH=PLAIN LOGIN") == std::string::npos);
        }
    }
}

TEST_CASE("Client::starttls refuses every dodge and leaves no usable connection",
          "[imap][starttls]") {
    auto all = cases();
    all.push_back(early_ok_in_greeting());
    for (const auto& c : all) {
        INFO(c.name);
        auto written = std::make_shared<std::string>();
        imap::Client client(serve(c, written));
        client.read_greeting();
        try {
            client.starttls({}, "imap.example.com");
            FAIL("STARTTLS accepted");
        } catch (const imap::Abort& e) {
            INFO(e.what());
            if (!c.handshake_may_start) CHECK(std::string(e.what()).find("TLS handshake") == std::string::npos);
        }
        CHECK_THROWS_AS(client.login(kUser, kPassword), imap::Abort);
        check_no_credentials(*written);
        if (!c.handshake_may_start) CHECK_FALSE(handshake_started(*written));
    }
}
