// Opening an authenticated Client from connection settings: TCP, implicit TLS,
// STARTTLS, a local command, or SSH; then LOGIN or SASL. Shared by sync and
// archive so every command connects the same way.
#pragma once

#include <imapkeep/imap/client.hpp>
#include <imapkeep/transport/ssh.hpp>
#include <imapkeep/transport/tls.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace imapkeep::imap {

enum class TlsMode { Implicit, StartTls, None };

class EarlyConnection;

struct ConnectOptions {
    std::string host;
    int port = 993;
    TlsMode tls = TlsMode::Implicit;
    transport::TlsOptions tls_options;
    std::optional<std::chrono::milliseconds> connect_timeout = std::chrono::seconds(30);
    std::optional<std::chrono::milliseconds> read_timeout = std::chrono::seconds(120);
    std::string user;
    std::function<std::string()> password;      // called at most once per connection
    std::string auth;                           // "" (LOGIN, or AUTH=PLAIN if LOGINDISABLED),
                                                // "plain" "login" "cram-md5" "xoauth2" "oauthbearer",
                                                // "oauth2": OAUTHBEARER (RFC 7628) when the server
                                                // offers it, else XOAUTH2
    // Set: log in as this master user (with its password) on behalf of
    // `user`, by SASL PLAIN with authzid = user, authcid = master_user
    // (RFC 4616 §2; Dovecot's master users). auth must be "" or "plain".
    std::string master_user;
    std::function<std::string()> oauth2_token;  // called once per AUTHENTICATE
    // Set: when the server refuses the token oauth2_token() gave (a tagged NO
    // to AUTHENTICATE: expired or revoked), this is told which token, and
    // AUTHENTICATE is tried once more, on the same connection, with the token
    // oauth2_token() gives then.
    std::function<void(const std::string& refused_token)> oauth2_token_rejected;
    // Non-empty: a local process speaks IMAP on stdin/stdout. With tls = None it
    // is trusted like a tunnel (PREAUTH expected, LOGIN allowed); with Implicit or
    // StartTls, TLS runs over its stream, checked against `host` (required then).
    std::string command;
    std::optional<transport::SshOptions> ssh;   // set: SSH exec or forward
    bool allow_plaintext_auth = false;          // LOGIN/PLAIN over an unencrypted link
    bool compress = false;                      // COMPRESS=DEFLATE when offered (RFC 4978)
    // Set: the connection's byte stream comes from here instead of host/command/ssh
    // (tests drive the whole engine against an in-process scripted server this way).
    std::function<transport::StreamPtr()> stream_factory;
    // Set: wraps the raw byte stream before TLS and IMAP see it (the backup's
    // byte rate limit reads through it).
    std::function<transport::StreamPtr(transport::StreamPtr)> wrap_stream;
    // Set: the first connection takes this stream, opened ahead of time
    // (early_connection.hpp); the ones after it, or when it failed, open their own.
    std::shared_ptr<EarlyConnection> early;
    ClientOptions client;
};

// Why connecting failed, for exit codes and messages.
// A server that refuses the connection to pace its clients (a greeting BYE,
// a NO or BYE at login that server_hint.hpp recognizes: "Too many
// simultaneous connections", [UNAVAILABLE], ...) is Kind::Network with that
// hint(): the account is fine, the server wants a pause or fewer connections.
class ConnectError : public std::runtime_error {
public:
    enum class Kind { Network, Tls, HostKey, Auth, Protocol };
    ConnectError(Kind kind, const std::string& message, ServerHint hint = {})
        : std::runtime_error(message), m_kind(kind), m_hint(std::move(hint)) {}
    Kind kind() const { return m_kind; }
    // True when trying again later may help (network trouble, timeouts, throttling).
    bool transient() const { return m_kind == Kind::Network; }
    const ServerHint& hint() const { return m_hint; }

private:
    Kind m_kind;
    ServerHint m_hint;
};

// The raw byte stream connect_and_login starts from, before TLS, byte pacing
// and IMAP: options.early's when it has one, else stream_factory's, SSH, the
// local command's or TCP's. Throws transport::TransportError.
transport::StreamPtr open_stream(const ConnectOptions& options);

// Connects, reads the greeting, upgrades/authenticates, and refreshes
// capabilities. Throws ConnectError.
std::unique_ptr<Client> connect_and_login(const ConnectOptions& options);

}  // namespace imapkeep::imap
