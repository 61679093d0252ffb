#include "sync/throttle.hpp"

#include <imapkeep/imap/connect.hpp>

#include <sstream>

namespace imapkeep::sync {

imap::ServerHint hint_of(const std::exception& failure) {
    if (auto* abort = dynamic_cast<const imap::Abort*>(&failure)) return abort->hint();
    if (auto* refused = dynamic_cast<const imap::CommandFailed*>(&failure)) return imap::server_hint(*refused);
    if (auto* connect = dynamic_cast<const imap::ConnectError*>(&failure)) return connect->hint();
    return {};
}

std::string wait_text(std::chrono::milliseconds wait) {
    std::ostringstream text;
    if (wait >= std::chrono::minutes(2))
        text << static_cast<double>(wait.count()) / 60000 << " min";
    else
        text << static_cast<double>(wait.count()) / 1000 << " s";
    return text.str();
}

void pause_for(AccountRun& run, const imap::ServerHint& hint, int attempt, const std::string& where) {
    const auto wait = run.pacer.hint_wait(hint, attempt);
    run.note(run.account.name + ": " + where + ": the server asks to slow down (" + hint.reason + "); waiting " +
             wait_text(wait) + " (" + std::to_string(attempt) + " of " +
             std::to_string(run.pacer.limits().throttle_retries) + ")");
    run.pacer.wait(wait);
    run.stop_if_asked();
}

std::string renew_expired_token(const std::string& account, const imap::ConnectOptions& connect,
                                const std::string& token, const imap::ServerHint& hint, int renewals) {
    if (renewals > 1)
        throw imap::ConnectError(imap::ConnectError::Kind::Auth,
                                 account + ": the server ended the session (" + hint.reason +
                                     ") right after the OAuth2 access token was renewed: it refuses the "
                                     "tokens the token endpoint gives (check the account's user, scopes "
                                     "and IMAP access)");
    if (!token.empty() && connect.oauth2_token_rejected) connect.oauth2_token_rejected(token);
    return account + ": the server ended the session (" + hint.reason +
           "); renewing the OAuth2 access token and connecting again";
}

void renew_expired_token(AccountRun& run, const std::string& token, const imap::ServerHint& hint, int renewals) {
    run.note(renew_expired_token(run.account.name, run.connect, token, hint, renewals));
}

std::string still_throttled_reason(int waits, const imap::ServerHint& hint) {
    return std::string(kStillThrottled) + " " + std::to_string(waits) + " waits: " + hint.reason;
}

bool waitable_at_connect(const imap::ServerHint& hint, bool only_connection) {
    return hint.action == imap::ServerHint::Action::Wait ||
           (only_connection && hint.action == imap::ServerHint::Action::FewerConnections);
}

std::unique_ptr<imap::Client> connect_paced(AccountRun& run, bool only_connection) {
    for (int attempt = 1;; ++attempt) {
        try {
            return imap::connect_and_login(run.connect);
        } catch (const imap::ConnectError& e) {
            const auto& hint = e.hint();
            if (!waitable_at_connect(hint, only_connection) || attempt > run.pacer.limits().throttle_retries)
                throw;
            pause_for(run, hint, attempt, "connecting");
        }
    }
}

}  // namespace imapkeep::sync
