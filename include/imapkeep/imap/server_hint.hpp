// What a server's refusal says about pacing (issue 12 "Throttling and
// pacing"): a NO, BAD or BYE that asks the client to slow down, to use fewer
// connections, or to come back another day. Sources:
//   RFC 5530 §3 response codes: [UNAVAILABLE] (a subsystem is down, try
//     later), [INUSE] (someone else holds what the command needs), [LIMIT]
//     (an implementation limit was hit), [OVERQUOTA] (over a quota; a backup
//     never writes, so for it the quota can only be one on downloads);
//   Microsoft 365: "Request is throttled. Suggested Backoff Time: N milliseconds",
//     "User is authenticated but not connected.", "Server Unavailable.";
//   Gmail: "Account exceeded command or bandwidth limits." (its daily limit),
//     "Too many simultaneous connections.";
//   Dovecot: "Maximum number of connections from user+IP exceeded";
//   Microsoft 365: "* BYE Session invalidated - AccessTokenExpired" (the
//     OAuth2 access token the session logged in with expired: no pause, a
//     new token);
//   any BYE: the server is closing the connection, for a reason worth a pause.
// Pure functions of the reply: no I/O, no state. The sync layer decides how
// long to wait and how often to try again (sync/throttle.hpp).
#pragma once

#include <imapkeep/wire/response.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace imapkeep::imap {

class CommandFailed;

struct ServerHint {
    enum class Action {
        None,              // an ordinary refusal: retrying will not help
        Wait,              // pause (delay if the server named one, else back off), then retry
        FewerConnections,  // this connection is one too many: drop it, keep the others
        StopForToday,      // a daily limit: stop fetching until the next run
        RenewToken,        // the OAuth2 access token expired: renew it, connect again at once
    };
    Action action = Action::None;
    // The wait the server asked for ("Suggested Backoff Time"), if it named one.
    std::optional<std::chrono::milliseconds> delay;
    // The server's words, for logs and reports: "[UNAVAILABLE] try later".
    std::string reason;

    explicit operator bool() const { return action != Action::None; }
};

// Classifies one status response. `status` is "NO", "BAD" or "BYE" (an OK is
// never a hint); `code` its response code, if any; `text` its human text.
// Text matches are case-insensitive.
ServerHint classify_server_hint(std::string_view status, const std::optional<wire::ResponseCode>& code,
                                std::string_view text);

// The hint in a typed command's NO or BAD (none for malformed data).
ServerHint server_hint(const CommandFailed& failure);

// "wait", "fewer connections", "stop for today": for log lines.
const char* action_name(ServerHint::Action action);

}  // namespace imapkeep::imap
