// connect_and_login: every way imapkeep reaches a server, in one place, with
// failures sorted into ConnectError kinds the CLI maps to exit codes.
#include <imapkeep/imap/connect.hpp>
#include <imapkeep/imap/early_connection.hpp>
#include <imapkeep/transport/process.hpp>
#include <imapkeep/transport/tcp.hpp>

namespace imapkeep::imap {

namespace {

ConnectError::Kind kind_of(const transport::TransportError& e) {
    using K = transport::TransportError::Kind;
    switch (e.kind()) {
        case K::Tls: return ConnectError::Kind::Tls;
        case K::HostKey: return ConnectError::Kind::HostKey;
        case K::Auth: return ConnectError::Kind::Auth;
        default: return ConnectError::Kind::Network;
    }
}

std::string where(const ConnectOptions& o) {
    if (o.ssh) return "ssh " + o.ssh->user + "@" + o.ssh->host + ":" + std::to_string(o.ssh->port);
    if (!o.command.empty()) return "command '" + o.command + "'";
    return o.host + ":" + std::to_string(o.port);
}

}  // namespace

transport::StreamPtr open_stream(const ConnectOptions& o) {
    if (o.early)
        if (auto stream = o.early->take()) return stream;
    if (o.stream_factory) return o.stream_factory();
    if (o.ssh) {
        auto ssh = *o.ssh;
        if (!ssh.read_timeout) ssh.read_timeout = o.read_timeout;
        return transport::connect_ssh(ssh);
    }
    if (!o.command.empty()) return transport::spawn_process(o.command, o.read_timeout);
    transport::TcpOptions tcp;
    tcp.connect_timeout = o.connect_timeout;
    tcp.read_timeout = o.read_timeout;
    return transport::connect_tcp(o.host, o.port, tcp);
}

namespace {

// auth = "oauth2": OAUTHBEARER is the standard (RFC 7628); XOAUTH2 is what
// Microsoft 365 offers alone. Gmail and Dovecot offer both.
std::string oauth2_mechanism(const std::string& place, Client& client) {
    if (client.has_capability("AUTH=OAUTHBEARER")) return "oauthbearer";
    if (client.has_capability("AUTH=XOAUTH2")) return "xoauth2";
    throw ConnectError(ConnectError::Kind::Auth,
                       place + ": the server offers neither AUTH=OAUTHBEARER nor AUTH=XOAUTH2");
}

bool is_oauth(const std::string& auth) {
    return auth == "oauth2" || auth == "xoauth2" || auth == "oauthbearer";
}

// The mechanism and, for OAuth2, the token it carries (to name it if refused).
struct Mechanism {
    std::unique_ptr<SaslMechanism> sasl;
    std::string token;
};

Mechanism mechanism_for(const ConnectOptions& o, const std::string& place, Client& client) {
    const std::string a = o.auth == "oauth2" ? oauth2_mechanism(place, client) : o.auth;
    auto password = [&] { return o.password ? o.password() : std::string(); };
    if (!o.master_user.empty()) {
        if (!a.empty() && a != "plain")
            throw ConnectError(ConnectError::Kind::Protocol,
                               place + ": a master user logs in with SASL PLAIN only (auth = \"" + a + "\")");
        return {sasl_plain(o.master_user, password(), o.user), ""};
    }
    if (a == "plain") return {sasl_plain(o.user, password()), ""};
    if (a == "login") return {sasl_login(o.user, password()), ""};
    if (a == "cram-md5") return {sasl_cram_md5(o.user, password()), ""};
    if (is_oauth(a)) {
        if (!o.oauth2_token) throw ConnectError(ConnectError::Kind::Auth, "no OAuth2 token configured");
        std::string token = o.oauth2_token();
        auto sasl = a == "xoauth2" ? sasl_xoauth2(o.user, token) : sasl_oauthbearer(o.user, token, o.host, o.port);
        return {std::move(sasl), std::move(token)};
    }
    if (a.empty() && client.has_capability("LOGINDISABLED")) return {sasl_plain(o.user, password()), ""};
    if (a.empty()) return {};
    throw ConnectError(ConnectError::Kind::Protocol, "unknown auth mechanism '" + a + "'");
}

// A refused login that says "not now" (a throttle, a connection limit) is a
// network failure to retry, not a wrong password.
ConnectError auth_failed(const std::string& place, const ConnectOptions& o, const CommandFailed& e) {
    if (auto hint = server_hint(e))
        return ConnectError(ConnectError::Kind::Network,
                            place + ": the server refused the login for now: " + hint.reason, hint);
    return ConnectError(ConnectError::Kind::Auth, place + ": authentication failed for " + o.user +
                                                      (o.master_user.empty() ? "" : " (master user " + o.master_user + ")") + ": " +
                                                      e.completion().status + " " + e.completion().text);
}

// LOGIN or AUTHENTICATE. A refused OAuth2 token is renewed and tried once more:
// it may have expired since it was cached (a long run, a clock off by minutes).
void authenticate(const ConnectOptions& o, const std::string& place, Client& client) {
    auto mechanism = mechanism_for(o, place, client);
    try {
        if (mechanism.sasl) client.authenticate(*mechanism.sasl);
        else client.login(o.user, o.password ? o.password() : std::string());
        client.set_oauth2_token(std::move(mechanism.token));
        return;
    } catch (const CommandFailed& e) {
        const auto hint = server_hint(e);
        if (!is_oauth(o.auth) || !o.oauth2_token_rejected || e.completion().status != "NO" ||
            (hint && hint.action != ServerHint::Action::RenewToken))
            throw auth_failed(place, o, e);
        o.oauth2_token_rejected(mechanism.token);
    }
    auto renewed = mechanism_for(o, place, client);
    try {
        client.authenticate(*renewed.sasl);
        client.set_oauth2_token(std::move(renewed.token));
    } catch (const CommandFailed& e) {
        o.oauth2_token_rejected(renewed.token);
        throw auth_failed(place, o, e);
    }
}

// A greeting BYE is no protocol error when it says why: a connection limit,
// an overloaded server (RFC 3501 §7.1.5 lets a server refuse so).
void read_greeting(Client& client, const std::string& place) {
    try {
        client.read_greeting();
    } catch (const Abort&) {
        throw;
    } catch (const Error&) {
        const auto& g = client.greeting();
        if (g.type != "BYE") throw;
        auto hint = classify_server_hint(g.type, g.code, g.text);
        throw ConnectError(ConnectError::Kind::Network, place + ": the server refused the connection: " + hint.reason,
                           hint);
    }
}

}  // namespace

std::unique_ptr<Client> connect_and_login(const ConnectOptions& o) {
    const std::string place = where(o);
    std::unique_ptr<Client> client;
    try {
        // A local command's stream is whatever the command makes of it (it may
        // be "nc host 143"): TLS over it is honoured when asked for, checked
        // against `host`. Only SSH exec mode is private by construction.
        bool ssh_exec = o.ssh && !o.ssh->command.empty();
        bool use_tls = o.tls != TlsMode::None && !ssh_exec;
        std::string tls_name = o.ssh ? o.ssh->forward_host : o.host;
        if (use_tls && tls_name.empty())
            throw ConnectError(ConnectError::Kind::Tls,
                               place + ": TLS needs a host name to check the certificate against");
        auto stream = open_stream(o);
        if (o.wrap_stream) stream = o.wrap_stream(std::move(stream));
        if (o.tls == TlsMode::Implicit && use_tls)
            stream = transport::wrap_tls(std::move(stream), tls_name, o.tls_options);
        client = std::make_unique<Client>(std::move(stream), o.client);
        read_greeting(*client, place);
        // A command without TLS stays a trusted PREAUTH tunnel, as SSH is.
        bool encrypted = use_tls ? o.tls == TlsMode::Implicit : o.ssh.has_value() || !o.command.empty();
        if (o.tls == TlsMode::StartTls && use_tls) {
            // STARTTLS stripping defence: a PREAUTH greeting skips TLS, so refuse it.
            if (client->state() != State::NotAuthenticated)
                throw ConnectError(ConnectError::Kind::Tls,
                                   place + ": PREAUTH greeting while STARTTLS is required");
            try {
                client->starttls(o.tls_options, tls_name);
            } catch (const Abort& e) {
                // Every refusal is a TLS failure, never a transient network one.
                throw ConnectError(ConnectError::Kind::Tls, place + ": " + e.what());
            }
            encrypted = true;
        }
        if (client->state() == State::NotAuthenticated) {
            if (!encrypted && !o.allow_plaintext_auth)
                throw ConnectError(ConnectError::Kind::Tls,
                                   place + ": refusing to send a password without TLS "
                                           "(set tls = \"starttls\" or \"implicit\")");
            authenticate(o, place, *client);
        }
        client->capabilities();
        // After authentication (RFC 4978 §3: the server may refuse it before).
        if (o.compress) client->compress();
        return client;
    } catch (const ConnectError&) {
        throw;
    } catch (const transport::TransportError& e) {
        throw ConnectError(kind_of(e), place + ": " + e.what());
    } catch (const Abort& e) {
        // Quirk(O365): a session that ends at once for an expired token
        // (ServerHint::Action::RenewToken) names it refused, as a NO would.
        if (e.hint().action == ServerHint::Action::RenewToken && client && !client->oauth2_token().empty() &&
            o.oauth2_token_rejected)
            o.oauth2_token_rejected(client->oauth2_token());
        std::string what = e.what();
        auto kind = what.find("TLS") != std::string::npos && !e.hint() ? ConnectError::Kind::Tls
                                                                        : ConnectError::Kind::Network;
        throw ConnectError(kind, place + ": " + what, e.hint());
    } catch (const Error& e) {
        throw ConnectError(ConnectError::Kind::Protocol, place + ": " + e.what());
    }
}

}  // namespace imapkeep::imap
