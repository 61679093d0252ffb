// connect_and_login with OAuth2 (issue 12): auth = "oauth2" picks the
// mechanism from CAPABILITY, and a refused token is renewed and tried once
// more on the same connection.
#include "imap/scripted_server.hpp"

#include <catch2/catch.hpp>
#include <imapkeep/imap/connect.hpp>
#include <imapkeep/util/base64.hpp>

using namespace imapkeep;
using imapkeep::testing::Rule;
using imapkeep::testing::scripted;

namespace {

std::string xoauth2_line(const std::string& token) {
    return "AUTHENTICATE XOAUTH2 " + util::base64_encode("user=me\x01" "auth=Bearer " + token + "\x01\x01");
}

struct Recorder {
    std::shared_ptr<std::string> log = std::make_shared<std::string>();
    std::vector<std::string> handed_out;
    std::vector<std::string> refused;
};

imap::ConnectOptions oauth_options(const std::string& auth, const std::string& capabilities,
                                   std::vector<Rule> first_rules, Recorder& r, bool with_rejected_hook = true) {
    imap::ConnectOptions o;
    o.host = "imap.example.com";
    o.port = 993;
    o.tls = imap::TlsMode::None;
    o.allow_plaintext_auth = true;
    o.user = "me";
    o.auth = auth;
    o.oauth2_token = [&r] {
        r.handed_out.push_back("T" + std::to_string(r.handed_out.size() + 1));
        return r.handed_out.back();
    };
    if (with_rejected_hook) o.oauth2_token_rejected = [&r](const std::string& t) { r.refused.push_back(t); };
    std::vector<Rule> rules = std::move(first_rules);
    rules.push_back({"AUTHENTICATE", "$T OK [CAPABILITY IMAP4rev1] in\r\n"});
    // Before login (after a refused AUTHENTICATE) the same as the greeting.
    rules.push_back({"CAPABILITY", "* CAPABILITY IMAP4rev1 SASL-IR " + capabilities + "\r\n$T OK done\r\n"});
    rules.push_back({"LOGOUT", "* BYE bye\r\n$T OK done\r\n"});
    o.stream_factory = [capabilities, rules, log = r.log] {
        return scripted("* OK [CAPABILITY IMAP4rev1 SASL-IR " + capabilities + "] hi\r\n", rules, log);
    };
    return o;
}

}  // namespace

TEST_CASE("auth = oauth2 prefers OAUTHBEARER, else XOAUTH2, from the capabilities", "[imap][connect][oauth2]") {
    struct Case {
        std::string auth;
        std::string capabilities;
        std::string sent;  // the mechanism on the wire, "" = refused before AUTHENTICATE
    };
    const std::vector<Case> cases = {
        {"oauth2", "AUTH=XOAUTH2 AUTH=OAUTHBEARER", "AUTHENTICATE OAUTHBEARER "},
        {"oauth2", "AUTH=OAUTHBEARER AUTH=XOAUTH2", "AUTHENTICATE OAUTHBEARER "},
        {"oauth2", "AUTH=XOAUTH2", "AUTHENTICATE XOAUTH2 "},
        {"oauth2", "AUTH=OAUTHBEARER", "AUTHENTICATE OAUTHBEARER "},
        {"oauth2", "AUTH=PLAIN", ""},
        // An explicit mechanism is used as asked.
        {"xoauth2", "AUTH=XOAUTH2 AUTH=OAUTHBEARER", "AUTHENTICATE XOAUTH2 "},
        {"oauthbearer", "AUTH=XOAUTH2 AUTH=OAUTHBEARER", "AUTHENTICATE OAUTHBEARER "},
    };
    for (const auto& c : cases) {
        INFO(c.auth << " with " << c.capabilities);
        Recorder r;
        auto o = oauth_options(c.auth, c.capabilities, {}, r);
        if (c.sent.empty()) {
            try {
                imap::connect_and_login(o);
                FAIL("connected");
            } catch (const imap::ConnectError& e) {
                CHECK(e.kind() == imap::ConnectError::Kind::Auth);
                CHECK_THAT(e.what(), Catch::Contains("neither AUTH=OAUTHBEARER nor AUTH=XOAUTH2"));
            }
            CHECK(r.handed_out.empty());
            CHECK(r.log->find("AUTHENTICATE") == std::string::npos);
            continue;
        }
        auto client = imap::connect_and_login(o);
        CHECK_THAT(*r.log, Catch::Contains(c.sent));
        CHECK(r.handed_out.size() == 1);
    }
}

TEST_CASE("a refused OAuth2 token is renewed and AUTHENTICATE tried once more", "[imap][connect][oauth2]") {
    const Rule refuse_t1{xoauth2_line("T1"), "$T NO [AUTHENTICATIONFAILED] token expired\r\n"};
    const Rule refuse_t2{xoauth2_line("T2"), "$T NO [AUTHENTICATIONFAILED] token expired\r\n"};
    SECTION("the renewed token is accepted") {
        Recorder r;
        auto client = imap::connect_and_login(oauth_options("xoauth2", "AUTH=XOAUTH2", {refuse_t1}, r));
        CHECK(r.handed_out == std::vector<std::string>{"T1", "T2"});
        CHECK(r.refused == std::vector<std::string>{"T1"});
        CHECK_THAT(*r.log, Catch::Contains(xoauth2_line("T2")));
    }
    SECTION("the renewed token is refused too: an authentication failure, both reported") {
        Recorder r;
        try {
            imap::connect_and_login(oauth_options("oauth2", "AUTH=XOAUTH2", {refuse_t1, refuse_t2}, r));
            FAIL("connected");
        } catch (const imap::ConnectError& e) {
            CHECK(e.kind() == imap::ConnectError::Kind::Auth);
            CHECK_THAT(e.what(), Catch::Contains("authentication failed for me"));
        }
        CHECK(r.refused == std::vector<std::string>{"T1", "T2"});
    }
    SECTION("without the hook (oauth2_token_command) there is no second try") {
        Recorder r;
        CHECK_THROWS_AS(imap::connect_and_login(oauth_options("xoauth2", "AUTH=XOAUTH2", {refuse_t1}, r, false)),
                        imap::ConnectError);
        CHECK(r.handed_out == std::vector<std::string>{"T1"});
    }
}
