// starttls() of the imaplib façade against the STARTTLS dodges of the "NO
// STARTTLS" study (tests/imap/starttls_cases.hpp). A caller that asks for TLS
// and then logs in must never send its password in clear: every refusal ends
// the connection (fail closed), so the login that follows cannot go out.
#include <imapkeep/imaplib.hpp>

#include <catch2/catch.hpp>

#include "imap/starttls_cases.hpp"
#include "imaplib/stream_imap4.hpp"

using namespace imapkeep::testing::starttls;
using imaplib::IMAP4;
using imaplib_test::StreamIMAP4;

TEST_CASE("starttls() refuses every dodge and the login after it sends nothing", "[imaplib][starttls]") {
    for (const auto& c : cases()) {
        INFO(c.name);
        auto written = std::make_shared<std::string>();
        StreamIMAP4 M(serve(c, written));
        try {
            M.starttls();
            FAIL("STARTTLS accepted");
        } catch (const IMAP4::error& e) {
            INFO(e.what());
            if (!c.handshake_may_start) CHECK(std::string(e.what()).find("TLS: ") == std::string::npos);
        }
        // A careless caller that goes on anyway.
        try {
            M.login(kUser, kPassword);
        } catch (const IMAP4::error&) {
        }
        check_no_credentials(*written);
        if (!c.handshake_may_start) CHECK_FALSE(handshake_started(*written));
    }
}
