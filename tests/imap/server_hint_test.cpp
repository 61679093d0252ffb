// classify_server_hint: what each provider says when it throttles, as sent.
#include <imapkeep/imap/errors.hpp>
#include <imapkeep/imap/server_hint.hpp>

#include <catch2/catch.hpp>

using namespace imapkeep;
using Action = imap::ServerHint::Action;

namespace {

struct Case {
    const char* status;
    const char* code;  // "" = none
    const char* text;
    Action action;
    long long delay_ms;  // -1 = none named
};

const Case kCases[] = {
    // RFC 5530 §3.
    {"NO", "UNAVAILABLE", "Temporary authentication failure", Action::Wait, -1},
    {"NO", "INUSE", "Mailbox is locked by another process", Action::Wait, -1},
    {"NO", "LIMIT", "Too many commands", Action::Wait, -1},
    {"BAD", "LIMIT", "Command line too long", Action::Wait, -1},
    {"NO", "OVERQUOTA", "Quota exceeded", Action::StopForToday, -1},
    {"NO", "THROTTLED", "Account exceeded rate limits", Action::Wait, -1},
    {"BYE", "UNAVAILABLE", "Server shutting down", Action::Wait, -1},
    // Microsoft 365, as imapsync's FAQ quotes it.
    {"NO", "", "Request is throttled. Suggested Backoff Time: 299961 milliseconds", Action::Wait, 299961},
    {"BAD", "", "Request is throttled. suggested backoff time: 5000 MILLISECONDS", Action::Wait, 5000},
    {"NO", "", "Suggested Backoff Time:12 milliseconds", Action::Wait, 12},
    {"BYE", "", "Suggested Backoff Time: 1500 milliseconds", Action::Wait, 1500},
    {"BAD", "", "User is authenticated but not connected.", Action::Wait, -1},
    // O365's expired OAuth2 token: a new token at once, no pause.
    {"BYE", "", "Session invalidated - AccessTokenExpired", Action::RenewToken, -1},
    {"NO", "", "AccessTokenExpired", Action::RenewToken, -1},
    {"NO", "", "Server Unavailable. 15", Action::Wait, -1},
    // Gmail.
    {"NO", "", "Account exceeded command or bandwidth limits. (Failure)", Action::StopForToday, -1},
    {"BYE", "ALERT", "Account exceeded command or bandwidth limits.", Action::StopForToday, -1},
    {"NO", "ALERT", "Too many simultaneous connections. (Failure)", Action::FewerConnections, -1},
    {"NO", "UNAVAILABLE", "Too many simultaneous connections", Action::FewerConnections, -1},
    // Dovecot.
    {"BYE", "", "Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)",
     Action::FewerConnections, -1},
    // Any other BYE: pause, then a new connection.
    {"BYE", "", "Autologout; idle for too long", Action::Wait, -1},
    {"BYE", "", "", Action::Wait, -1},
    // Ordinary refusals are no hint.
    {"NO", "", "Mailbox does not exist", Action::None, -1},
    {"NO", "TRYCREATE", "No such mailbox", Action::None, -1},
    {"NO", "AUTHENTICATIONFAILED", "Authentication failed.", Action::None, -1},
    {"BAD", "", "Error in IMAP command UID FETCH: Invalid arguments", Action::None, -1},
    {"NO", "", "Suggested Backoff Time: soon", Action::None, -1},
    // An OK is never a hint, whatever it says.
    {"OK", "UNAVAILABLE", "Request is throttled. Suggested Backoff Time: 10 milliseconds", Action::None, -1},
};

std::optional<wire::ResponseCode> code_of(const char* name) {
    if (!*name) return std::nullopt;
    return wire::ResponseCode{name, "", {}};
}

}  // namespace

TEST_CASE("server hints: each provider's throttling reply maps to an action", "[imap][throttle]") {
    for (const auto& c : kCases) {
        DYNAMIC_SECTION(c.status << " [" << c.code << "] " << c.text) {
            auto hint = imap::classify_server_hint(c.status, code_of(c.code), c.text);
            CHECK(imap::action_name(hint.action) == std::string(imap::action_name(c.action)));
            if (c.delay_ms < 0) {
                CHECK_FALSE(hint.delay);
            } else {
                REQUIRE(hint.delay);
                CHECK(hint.delay->count() == c.delay_ms);
            }
            if (hint) CHECK(hint.reason.find(c.text) != std::string::npos);
        }
    }
}

TEST_CASE("server hints: a typed command's NO carries its hint; malformed data none", "[imap][throttle]") {
    imap::Completion throttled{"NO", wire::ResponseCode{"UNAVAILABLE", "", {}}, "try later", ""};
    auto hint = imap::server_hint(imap::CommandFailed("UID FETCH", throttled));
    CHECK(hint.action == Action::Wait);
    CHECK(hint.reason == "[UNAVAILABLE] try later");

    imap::Completion malformed{"NO", wire::ResponseCode{"UNAVAILABLE", "", {}}, "try later", "bad FETCH"};
    CHECK_FALSE(imap::server_hint(imap::CommandFailed("UID FETCH", malformed)));
}
