// doctor's TLS check: a handshake that does not stop at a verification
// failure, so the certificate (subject, issuer, expiry, fingerprint) can be
// shown whatever is wrong with it, then the verdict the account's settings
// give (tls_verify, ca_file, tls_fingerprint), as transport/tls.cpp decides.
// The real connection (the login check) still goes through wrap_tls.
#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/transport/tcp.hpp>
#include <imapkeep/util/fingerprint.hpp>
#include <memory>

#include "cli/doctor.hpp"

namespace imapkeep::cli {

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX, SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Deleter<SSL, SSL_free>>;

std::string openssl_error() {
    unsigned long e = ERR_get_error();
    if (e == 0) return "the server closed the connection during the handshake";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

bool is_ip_literal(const std::string& host) {
    unsigned char buf[sizeof(in6_addr)];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string name_of(X509_NAME* name) {
    if (!name) return "";
    char buf[512];
    X509_NAME_oneline(name, buf, sizeof buf);
    return buf;
}

std::string sha256_hex(X509* cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_digest(cert, EVP_sha256(), md, &len) != 1) return "";
    static const char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned i = 0; i < len; ++i) {
        hex += kHex[md[i] >> 4];
        hex += kHex[md[i] & 15];
    }
    return hex;
}

std::int64_t seconds_until(const ASN1_TIME* when) {
    int days = 0, seconds = 0;
    if (ASN1_TIME_diff(&days, &seconds, nullptr, when) != 1) return 0;
    return static_cast<std::int64_t>(days) * 86400 + seconds;
}

// The context verifies as wrap_tls does, but lets the handshake finish.
SslCtxPtr probe_context(const transport::TlsOptions& tls, std::string& error) {
    SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx) {
        error = "cannot create a TLS context";
        return nullptr;
    }
    SSL_CTX_set_min_proto_version(ctx.get(),
                                  tls.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    int loaded = tls.ca_file.empty() && tls.ca_dir.empty()
                     ? SSL_CTX_set_default_verify_paths(ctx.get())
                     : SSL_CTX_load_verify_locations(
                           ctx.get(), tls.ca_file.empty() ? nullptr : tls.ca_file.c_str(),
                           tls.ca_dir.empty() ? nullptr : tls.ca_dir.c_str());
    if (loaded != 1) {
        error = "cannot load CA certificates" +
                (tls.ca_file.empty() ? std::string() : " from " + tls.ca_file);
        return nullptr;
    }
    return ctx;
}

void name_to_verify(SSL* ssl, const std::string& name) {
    if (name.empty()) return;
    if (is_ip_literal(name)) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
        return;
    }
    SSL_set_tlsext_host_name(ssl, name.c_str());
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set1_host(ssl, name.c_str());
}

bool pin_matches(const std::vector<std::string>& pins, const std::string& fingerprint) {
    return std::any_of(pins.begin(), pins.end(), [&](const std::string& pin) {
        auto normal = util::normalize_fingerprint(pin);
        return normal && *normal == fingerprint;
    });
}

void describe_peer(SSL* ssl, const transport::TlsOptions& tls, TlsFacts& facts) {
    facts.protocol = SSL_get_version(ssl);
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (!cert) {
        facts.verify_error = "the server sent no certificate";
        return;
    }
    facts.subject = name_of(X509_get_subject_name(cert));
    facts.issuer = name_of(X509_get_issuer_name(cert));
    facts.fingerprint = sha256_hex(cert);
    facts.seconds_left = seconds_until(X509_get0_notAfter(cert));
    X509_free(cert);
    long result = SSL_get_verify_result(ssl);
    if (result != X509_V_OK) facts.verify_error = X509_verify_cert_error_string(result);
    facts.pin_matched = facts.pinned && pin_matches(tls.pinned_sha256, facts.fingerprint);
}

// The plain-text part of STARTTLS (RFC 3501 §6.2.1) through the IMAP client,
// up to the tagged OK; the handshake then runs on the socket itself.
void start_tls_in_plain_text(imap::Client& client) {
    client.read_greeting();
    if (!client.has_capability("STARTTLS"))
        throw std::runtime_error("the server does not offer STARTTLS");
    imap::Completion done = client.run("STARTTLS", {});
    if (!done.ok()) throw std::runtime_error("STARTTLS refused: " + done.status + " " + done.text);
}

// The TCP stream polls a non-blocking socket; OpenSSL here reads it directly,
// blocking, bounded by the socket's own timeouts.
void set_socket_timeouts(int fd, std::chrono::milliseconds timeout) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

TlsFacts probe_tls(const imap::ConnectOptions& options) {
    TlsFacts facts;
    const transport::TlsOptions& tls = options.tls_options;
    facts.verify = tls.verify;
    facts.pinned = !tls.pinned_sha256.empty();
    try {
        transport::TcpOptions tcp{options.connect_timeout, options.read_timeout};
        imap::Client client(transport::connect_tcp(options.host, options.port, tcp));
        if (options.tls == imap::TlsMode::StartTls) start_tls_in_plain_text(client);
        const int fd = client.stream().native_handle();
        set_socket_timeouts(fd, options.read_timeout.value_or(std::chrono::seconds(120)));
        SslCtxPtr ctx = probe_context(tls, facts.handshake_error);
        if (!ctx) return facts;
        SslPtr ssl(SSL_new(ctx.get()));
        SSL_set_fd(ssl.get(), fd);
        name_to_verify(ssl.get(), tls.server_name.empty() ? options.host : tls.server_name);
        ERR_clear_error();
        if (SSL_connect(ssl.get()) != 1) {
            facts.handshake_error = openssl_error();
            return facts;
        }
        describe_peer(ssl.get(), tls, facts);
        SSL_shutdown(ssl.get());
    } catch (const std::exception& e) {
        facts.handshake_error = e.what();
    }
    return facts;
}

CheckResult tls_check(const std::string& name, const TlsFacts& f) {
    if (!f.handshake_error.empty())
        return fail(name, "no TLS handshake: " + f.handshake_error,
                    "check port and tls (implicit on 993, starttls on 143)");
    const std::string cert = f.protocol + ", " + f.subject + " issued by " + f.issuer;
    const std::int64_t days = f.seconds_left / 86400;
    if (f.pinned && !f.pin_matched)
        return fail(
            name, cert + ": certificate sha256:" + f.fingerprint + " is not in tls_fingerprint",
            "if the server changed its certificate on purpose, check and pin the new fingerprint");
    if (f.seconds_left <= 0)
        return fail(name, cert + ": certificate expired " + std::to_string(-days) + " days ago",
                    "the server's administrator must renew it");
    if (!f.pinned && f.verify && !f.verify_error.empty())
        return fail(name,
                    cert + ": certificate verify failed: " + f.verify_error +
                        " (sha256:" + f.fingerprint + ")",
                    "set ca_file to the CA that signed it, or pin it with tls_fingerprint after "
                    "checking it");
    if (f.seconds_left < kCertificateWarnSeconds)
        return warn(name, cert + ": certificate expires in " + std::to_string(days) + " days",
                    "the server's administrator should renew it soon");
    std::string how = f.pinned   ? "pinned fingerprint matches"
                      : f.verify ? "verified"
                                 : "NOT verified (tls_verify = false)";
    if (!f.pinned && !f.verify)
        return warn(
            name, cert + ", " + how + (f.verify_error.empty() ? "" : ": " + f.verify_error),
            "anyone on the path can read your password; set ca_file or tls_fingerprint instead");
    return ok(name, cert + ", " + how + ", expires in " + std::to_string(days) + " days");
}

}  // namespace imapkeep::cli
