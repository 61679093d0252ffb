// Access tokens for an OAuth2 account (issue 12): exchanged for the refresh
// token at the token endpoint (RFC 6749 §6), cached in memory and in the
// account's token cache file, renewed when nearly expired or refused.
//
// Contract:
// - access_token() returns a token with more than kMinLifetime left (or a
//   fresh one, whatever its lifetime). Thread-safe: connections opened at once
//   share one refresh.
// - rejected(token): the IMAP server refused `token`; the next access_token()
//   gets a new one (once per refused token, however many connections saw it).
// - Failures throw OAuth2Error naming the account, never a token or secret:
//   Kind::Auth (exit 3, not retried) when the endpoint refuses the refresh
//   token or client (invalid_grant says to run `imapkeep auth ACCOUNT`);
//   Kind::Network (retried) when it cannot be reached or answers 5xx.
// - The cache file is written atomically, mode 0600. It holds the refresh
//   token only when the account has no other source for it.
#pragma once

#include "cli/http_post.hpp"
#include "cli/oauth2_reply.hpp"
#include "cli/oauth2_settings.hpp"

#include <imapkeep/imap/connect.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace imapkeep::cli {

class OAuth2Error : public imap::ConnectError {
public:
    using imap::ConnectError::ConnectError;
};

using SystemClock = std::function<std::chrono::system_clock::time_point()>;

// The token cache file (oauth2_settings.hpp): missing fields are empty.
struct TokenCache {
    std::string refresh_token;
    std::string access_token;
    std::chrono::system_clock::time_point expires_at{};
};
// A missing or unreadable file is an empty cache.
TokenCache read_token_cache(const std::string& path);
void write_token_cache(const std::string& path, const TokenCache& cache);

// Stores a refresh token where `settings` says it lives: the cache file, the
// refresh_token_file, or the store command's stdin. Throws OAuth2Error (Auth)
// when it has nowhere to go (a refresh_token_command without a store command).
void store_refresh_token(const OAuth2Settings& settings, const std::string& refresh_token);

// The error for a refused token endpoint answer, naming the account.
OAuth2Error token_endpoint_error(const OAuth2Settings& settings, const TokenReply& reply);

class TokenSource {
public:
    static constexpr std::chrono::seconds kMinLifetime{60};

    TokenSource(OAuth2Settings settings, HttpPost post,
                SystemClock now = [] { return std::chrono::system_clock::now(); });

    std::string access_token();
    void rejected(const std::string& token);
    // Asks the token endpoint for a new access token now, whatever the caches
    // hold (doctor's check), and caches it as access_token() would. Returns
    // its lifetime. Throws as access_token().
    std::chrono::seconds renew();

    // How many times the token endpoint was asked (tests).
    int refreshes() const;

private:
    bool usable(const std::string& token, std::chrono::system_clock::time_point expires_at) const;
    std::string refresh_token(const TokenCache& cache);
    std::string refresh(TokenCache cache);

    OAuth2Settings m_settings;
    HttpPost m_post;
    SystemClock m_now;
    mutable std::mutex m_mutex;
    std::string m_token;
    std::chrono::system_clock::time_point m_expires_at{};
    std::string m_refused;  // the last token a server refused
    std::optional<std::string> m_refresh_token_from_command;
    int m_refreshes = 0;
};

// Wires `source` into ConnectOptions (oauth2_token, oauth2_token_rejected).
void use_token_source(imap::ConnectOptions& connect, std::shared_ptr<TokenSource> source);

}  // namespace imapkeep::cli
