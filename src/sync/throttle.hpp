// Reacting to a throttling server (issue 12): find the hint in a failure,
// wait as it asks, and open connections through such waits. The per-mailbox
// decisions (give a connection up, stop for today) are the workers'
// (backup.cpp); this is what they share with the account's first connection.
#pragma once

#include <exception>
#include <imapkeep/imap/server_hint.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "sync/mailbox_sync.hpp"

namespace imapkeep::sync {

// The pacing hint a failure carries: a BYE's (imap::Abort), a NO's or BAD's
// (imap::CommandFailed), a refused connection's (imap::ConnectError).
imap::ServerHint hint_of(const std::exception& failure);

// Waits as `hint` asks before retry number `attempt` (1-based), and says so
// in a pacing note about `where`. Throws StopRequested when the run was asked
// to stop meanwhile.
void pause_for(AccountRun& run, const imap::ServerHint& hint, int attempt, const std::string& where);

// A new connection with run.connect, waiting and trying again (up to
// PacingLimits::throttle_retries times) while the server refuses it with a
// Wait hint, or a FewerConnections one when `only_connection` (there is no
// other connection to give up). Throws the last ConnectError otherwise.
std::unique_ptr<imap::Client> connect_paced(AccountRun& run, bool only_connection);

// Quirk(O365): the server ended a session because the OAuth2 access token it
// logged in with expired ("* BYE Session invalidated - AccessTokenExpired",
// ServerHint::Action::RenewToken). Names `token` (the session's,
// imap::Client::oauth2_token(); "" when unknown) as refused, the path a
// refused AUTHENTICATE takes, so the next connection logs in with a new token
// at once: no back-off. `renewals` counts the renewals since the last durable
// progress, this one included: a second means the server ended the session of
// a token fresh from the token endpoint, an authentication error, never a
// loop: throws imap::ConnectError (Kind::Auth) then.
void renew_expired_token(AccountRun& run, const std::string& token, const imap::ServerHint& hint, int renewals);

// The same for any connection made with `connect` (a restore's target):
// `account` names it in the error; returns the note to show.
std::string renew_expired_token(const std::string& account, const imap::ConnectOptions& connect,
                                const std::string& token, const imap::ServerHint& hint, int renewals);

// How a run's budget reason begins when the server was still throttling
// after PacingLimits::throttle_retries waits and the run stopped for now
// ("still throttled after 8 waits: [UNAVAILABLE] ..."), for the report to
// tell it from a daily limit.
inline constexpr std::string_view kStillThrottled = "still throttled after";
inline bool still_throttled(std::string_view budget_reason) {
    return budget_reason.starts_with(kStillThrottled);
}

// The budget reason of a run stopped because the server still throttled
// after `waits` waits: "still throttled after 8 waits: [UNAVAILABLE] ...".
std::string still_throttled_reason(int waits, const imap::ServerHint& hint);

// True when connect_paced() waits for `hint` (so a ConnectError it throws
// with such a hint means every wait was spent).
bool waitable_at_connect(const imap::ServerHint& hint, bool only_connection);

// "2 s", "1.5 s", "15 min": a wait in a note.
std::string wait_text(std::chrono::milliseconds wait);

}  // namespace imapkeep::sync
