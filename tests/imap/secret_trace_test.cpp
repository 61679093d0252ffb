// No secret reaches the protocol trace, whatever form the command takes: a
// user name that must go as a literal pushes the password into the chunk
// after the literal, SASL answers go as continuation lines, a password may
// hold spaces or be a literal itself. Table-driven over those shapes.
#include <catch2/catch.hpp>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/imap/sasl.hpp>
#include <imapkeep/util/base64.hpp>

#include "imap/scripted_server.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;
using imap::Client;

namespace {

struct TraceCase {
    const char* what;
    const char* capabilities;  // in the greeting
    std::string user;
    std::string password;
    const char* mechanism;  // "" = LOGIN
};

// The server's answers: OK to LOGIN (scripted() itself sends the "+" each
// synchronizing literal waits for), or a "+" for the SASL exchange
// (AUTHENTICATE without an initial response), then OK.
std::vector<Rule> rules_for(const TraceCase& c) {
    const std::string caps = c.capabilities;
    const std::string login_reply = "$T OK in\r\n";
    std::string auth_reply =
        caps.find("SASL-IR") == std::string::npos ? "+ \r\n$T OK in\r\n" : "$T OK in\r\n";
    return {{"LOGIN", login_reply},
            {"AUTHENTICATE", auth_reply},
            {"CAPABILITY", "* CAPABILITY " + caps + "\r\n$T OK\r\n"}};
}

std::unique_ptr<imap::SaslMechanism> mechanism(const TraceCase& c) {
    const std::string m = c.mechanism;
    if (m == "PLAIN") return imap::sasl_plain(c.user, c.password);
    if (m == "XOAUTH2") return imap::sasl_xoauth2(c.user, c.password);
    if (m == "OAUTHBEARER")
        return imap::sasl_oauthbearer(c.user, c.password, "imap.example.com", 993);
    return nullptr;
}

}  // namespace

TEST_CASE("the trace never shows a password, token or SASL payload", "[client][secrets]") {
    const std::vector<TraceCase> cases = {
        {"LOGIN, plain user", "IMAP4rev1", "alice", "Sk-4hTn8w", ""},
        {"LOGIN, literal user (non-ASCII), LITERAL+", "IMAP4rev1 LITERAL+", "\xC3\xBCser",
         "Sk-4hTn8w", ""},
        {"LOGIN, literal user (non-ASCII), synchronizing", "IMAP4rev1", "\xC3\xBCser", "Sk-4hTn8w",
         ""},
        {"LOGIN, literal user, password with spaces", "IMAP4rev1 LITERAL+", "\xC3\xBCser",
         "4hTn Sk 8w", ""},
        {"LOGIN, quoted user us\"er, password with spaces", "IMAP4rev1", "us\"er", "4hTn Sk 8w",
         ""},
        {"LOGIN, literal password", "IMAP4rev1 LITERAL+", "alice", "Sk-4hTn8w-\xC3\xA9", ""},
        {"LOGIN, literal user and literal password", "IMAP4rev1 LITERAL+", "\xC3\xBCser",
         "Sk-\xC3\xA9-4hTn8w", ""},
        {"AUTHENTICATE PLAIN with SASL-IR", "IMAP4rev1 SASL-IR AUTH=PLAIN", "alice", "Sk-4hTn8w",
         "PLAIN"},
        {"AUTHENTICATE PLAIN without SASL-IR", "IMAP4rev1 AUTH=PLAIN", "\xC3\xBCser", "Sk-4hTn8w",
         "PLAIN"},
        {"AUTHENTICATE XOAUTH2", "IMAP4rev1 SASL-IR AUTH=XOAUTH2", "alice", "ya29.Tok3n-4hTn8w",
         "XOAUTH2"},
        {"AUTHENTICATE OAUTHBEARER", "IMAP4rev1 AUTH=OAUTHBEARER", "alice", "ya29.Tok3n-4hTn8w",
         "OAUTHBEARER"},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.what) {
            std::string trace;
            imap::ClientOptions options;
            options.trace = [&](std::string_view line) { trace += std::string(line) + "\n"; };
            auto stream = scripted(std::string("* OK [CAPABILITY ") + c.capabilities + "] hi\r\n",
                                   rules_for(c));
            // Everything the client wrote, literals included (owned by the client).
            const std::string& wire = static_cast<transport::ScriptedStream&>(*stream).written();
            Client client(std::move(stream), options);
            client.read_greeting();
            client.capabilities();  // LITERAL+ and SASL-IR count once known
            if (auto m = mechanism(c))
                client.authenticate(*m);
            else
                client.login(c.user, c.password);
            INFO("trace:\n" << trace << "wire:\n" << wire);
            // The secret did go out, so its absence from the trace means something.
            REQUIRE(wire.find(std::string(c.mechanism).empty()
                                  ? c.password
                                  : std::string("AUTHENTICATE")) != std::string::npos);
            CHECK(trace.find(std::string(c.mechanism).empty() ? "LOGIN" : "AUTHENTICATE") !=
                  std::string::npos);
            // Nor any part of it: a password with spaces must not leak a word.
            for (const std::string& part : {std::string("4hTn"), std::string("Tok3n")})
                CHECK(trace.find(part) == std::string::npos);
            // A SASL payload is base64: no line after the command may carry it.
            for (std::size_t at = 0; (at = trace.find("C: ", at)) != std::string::npos; at += 3) {
                std::string line = trace.substr(at, trace.find('\n', at) - at);
                CHECK((line.find("<redacted>") != std::string::npos ||
                       line.find("CAPABILITY") != std::string::npos ||
                       line.find("{") != std::string::npos));
            }
        }
    }
}
