// TLS client over any Stream. OpenSSL talks to the inner stream through a
// custom BIO, so the same code serves implicit TLS on a socket, STARTTLS after
// plain-text IMAP, and TLS inside an SSH channel.
#include <imapkeep/transport/tls.hpp>
#include <imapkeep/util/fingerprint.hpp>

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <exception>

namespace imapkeep::transport {
namespace {

using Kind = TransportError::Kind;

std::string openssl_errors() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}

// "sha256:ab:cd:..." of a certificate, or "" without one.
std::string fingerprint(const X509* peer) {
    if (!peer) return "";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (X509_digest(peer, EVP_sha256(), digest, &length) != 1) return "";
    static const char* kHex = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned int i = 0; i < length; ++i) {
        if (i) out += ':';
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 15];
    }
    return out;
}

// OpenSSL drops the peer's certificate when verification fails; this
// callback notes the leaf's fingerprint first, for the error message.
int remember_leaf(int preverify_ok, X509_STORE_CTX* ctx) {
    auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* seen = ssl ? static_cast<std::string*>(SSL_get_app_data(ssl)) : nullptr;
    if (seen && seen->empty()) *seen = fingerprint(X509_STORE_CTX_get0_cert(ctx));
    return preverify_ok;
}

bool is_ip_literal(const std::string& host) {
    unsigned char buf[sizeof(in6_addr)];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// The BIO's user data: the inner stream, and the first exception it threw.
// Exceptions must not unwind through OpenSSL's C frames, so the callbacks
// park them here and TlsStream rethrows after the SSL call returns.
struct BioTarget {
    Stream* inner = nullptr;
    std::exception_ptr error;
    bool retryable = false;  // a read timeout: the TLS session can go on
};

int bio_write(BIO* bio, const char* data, size_t len, size_t* written) {
    auto* target = static_cast<BioTarget*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    try {
        target->inner->write_all(std::string_view(data, len));
        *written = len;
        return 1;
    } catch (...) {
        target->error = std::current_exception();
        return 0;
    }
}

int bio_read(BIO* bio, char* data, size_t len, size_t* read) {
    auto* target = static_cast<BioTarget*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    try {
        std::size_t n = target->inner->read_some(std::span<char>(data, len));
        *read = n;
        return n > 0 ? 1 : 0;  // 0 without retry flags is EOF to OpenSSL
    } catch (const TransportError& e) {
        // A timeout consumed nothing: report "retry" so OpenSSL keeps any
        // partial record and the next read_some resumes where this one stopped.
        if (e.kind() == Kind::Timeout) {
            BIO_set_retry_read(bio);
            target->retryable = true;
        }
        target->error = std::current_exception();
        return 0;
    } catch (...) {
        target->error = std::current_exception();
        return 0;
    }
}

long bio_ctrl(BIO*, int cmd, long, void*) {
    // The inner stream writes through immediately; nothing to flush.
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int bio_create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

BIO_METHOD* stream_bio_method() {
    // Created once and kept for the life of the process; OpenSSL copies
    // nothing from it per BIO, so sharing it across threads is safe.
    static BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "imapkeep stream");
        if (m == nullptr) return m;
        BIO_meth_set_write_ex(m, bio_write);
        BIO_meth_set_read_ex(m, bio_read);
        BIO_meth_set_ctrl(m, bio_ctrl);
        BIO_meth_set_create(m, bio_create);
        return m;
    }();
    return method;
}

class TlsStream final : public Stream {
public:
    TlsStream(StreamPtr inner, std::string name) : m_inner(std::move(inner)), m_name(std::move(name)) {
        m_target.inner = m_inner.get();
    }
    ~TlsStream() override {
        close();
        SSL_free(m_ssl);
        SSL_CTX_free(m_ctx);
    }
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;

    void handshake(const TlsOptions& options) {
        m_ctx = SSL_CTX_new(TLS_client_method());
        if (m_ctx == nullptr) fail("cannot create TLS context");
        int min_version = options.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
        if (options.min_version != "1.2" && options.min_version != "1.3") {
            throw TransportError(Kind::Tls, "unsupported TLS minimum version \"" + options.min_version +
                                                "\" (use 1.2 or 1.3)");
        }
        SSL_CTX_set_min_proto_version(m_ctx, min_version);
        // Quirk(many servers): they close the connection after LOGOUT without
        // close_notify. IMAP frames its own data (tagged responses, literal
        // sizes), so a truncation is caught above and a bare EOF is just EOF.
        SSL_CTX_set_options(m_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
        // A pin replaces chain and name checks: it is compared after the handshake.
        const bool pinned = !options.pinned_sha256.empty();
        const bool verify = options.verify && !pinned;
        SSL_CTX_set_verify(m_ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, verify ? remember_leaf : nullptr);

        if (!options.ca_file.empty() || !options.ca_dir.empty()) {
            if (SSL_CTX_load_verify_locations(m_ctx, options.ca_file.empty() ? nullptr : options.ca_file.c_str(),
                                              options.ca_dir.empty() ? nullptr : options.ca_dir.c_str()) != 1) {
                fail("cannot load CA certificates from " +
                     (options.ca_file.empty() ? options.ca_dir : options.ca_file));
            }
        } else if (SSL_CTX_set_default_verify_paths(m_ctx) != 1) {
            fail("cannot load the system CA certificates");
        }
        if (!options.client_cert_file.empty()) {
            const std::string& key =
                options.client_key_file.empty() ? options.client_cert_file : options.client_key_file;
            if (SSL_CTX_use_certificate_chain_file(m_ctx, options.client_cert_file.c_str()) != 1) {
                fail("cannot load client certificate " + options.client_cert_file);
            }
            if (SSL_CTX_use_PrivateKey_file(m_ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
                fail("cannot load client key " + key);
            }
            if (SSL_CTX_check_private_key(m_ctx) != 1) fail("client key does not match certificate");
        }

        m_ssl = SSL_new(m_ctx);
        if (m_ssl == nullptr) fail("cannot create TLS session");
        BIO_METHOD* method = stream_bio_method();
        BIO* bio = method ? BIO_new(method) : nullptr;
        if (bio == nullptr) fail("cannot create TLS transport BIO");
        BIO_set_data(bio, &m_target);
        SSL_set_bio(m_ssl, bio, bio);  // one reference, owned by m_ssl
        SSL_set_app_data(m_ssl, &m_leaf_fingerprint);

        bool ip = is_ip_literal(m_name);
        // RFC 6066 §3: literal IP addresses are not permitted in SNI.
        if (!ip && !m_name.empty() && SSL_set_tlsext_host_name(m_ssl, m_name.c_str()) != 1) {
            fail("cannot set SNI name " + m_name);
        }
        if (verify) {
            if (m_name.empty()) throw TransportError(Kind::Tls, "no host name to verify the certificate against");
            if (ip) {
                if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(m_ssl), m_name.c_str()) != 1) {
                    fail("cannot set IP address to verify " + m_name);
                }
            } else {
                // RFC 6125 §6.4.3: a wildcard matches one whole left-most label.
                SSL_set_hostflags(m_ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                if (SSL_set1_host(m_ssl, m_name.c_str()) != 1) fail("cannot set host name to verify " + m_name);
            }
        }

        ERR_clear_error();
        int rc = SSL_connect(m_ssl);
        if (rc != 1) {
            rethrow_inner();
            long result = SSL_get_verify_result(m_ssl);
            if (verify && result != X509_V_OK) {
                ERR_clear_error();
                const std::string& leaf = m_leaf_fingerprint;
                throw TransportError(Kind::Tls, "TLS handshake with " + m_name +
                                                    " failed: certificate verify failed: " +
                                                    X509_verify_cert_error_string(result) +
                                                    (leaf.empty() ? "" : " (certificate " + leaf + ")"));
            }
            std::string detail = openssl_errors();
            // No TLS alert and no bad record: the peer hung up. That is the
            // network's doing (a retry may fix it), not a refusal of ours.
            if (detail.empty())
                throw TransportError(Kind::Io, "TLS handshake with " + m_name + " failed: connection closed by peer");
            throw TransportError(Kind::Tls, "TLS handshake with " + m_name + " failed: " + detail);
        }
        if (pinned) check_pin(options.pinned_sha256);
    }

    std::size_t read_some(std::span<char> buffer) override {
        check_open();
        if (buffer.empty()) return 0;
        while (true) {
            ERR_clear_error();
            std::size_t n = 0;
            if (SSL_read_ex(m_ssl, buffer.data(), buffer.size(), &n) == 1) return n;
            int err = SSL_get_error(m_ssl, 0);
            rethrow_inner();
            if (err == SSL_ERROR_ZERO_RETURN) return 0;
            if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) continue;
            if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return 0;
            throw TransportError(Kind::Tls, "TLS read from " + m_name + " failed: " + openssl_errors());
        }
    }

    void write_all(std::string_view data) override {
        check_open();
        while (!data.empty()) {
            ERR_clear_error();
            std::size_t n = 0;
            if (SSL_write_ex(m_ssl, data.data(), data.size(), &n) == 1) {
                data.remove_prefix(n);
                continue;
            }
            int err = SSL_get_error(m_ssl, 0);
            rethrow_inner();
            if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) continue;
            throw TransportError(Kind::Tls, "TLS write to " + m_name + " failed: " + openssl_errors());
        }
    }

    void close() noexcept override {
        if (m_closed) return;
        m_closed = true;
        // Send close_notify but do not wait for the peer's: the connection is
        // going away either way. Failures (peer already gone) don't matter.
        if (m_ssl != nullptr && SSL_is_init_finished(m_ssl) && !m_broken) {
            SSL_shutdown(m_ssl);
        }
        ERR_clear_error();
        m_target.error = nullptr;
        m_inner->close();
    }

    void set_read_timeout(std::optional<std::chrono::milliseconds> timeout) override {
        m_inner->set_read_timeout(timeout);
    }
    std::size_t pending() const override {
        return static_cast<std::size_t>(SSL_pending(m_ssl)) + m_inner->pending();
    }
    int native_handle() const override { return m_inner->native_handle(); }
    std::string describe() const override { return "tls " + m_name + " over " + m_inner->describe(); }

private:
    void check_pin(const std::vector<std::string>& pins) {
        std::string fingerprint = imapkeep::transport::fingerprint(SSL_get0_peer_certificate(m_ssl));
        auto actual = util::normalize_fingerprint(fingerprint);
        for (const auto& pin : pins)
            if (actual && util::normalize_fingerprint(pin) == actual) return;
        m_broken = true;
        throw TransportError(Kind::Tls, "TLS handshake with " + m_name + " failed: the certificate (" +
                                            (fingerprint.empty() ? "none" : fingerprint) +
                                            ") is not the pinned one");
    }

    [[noreturn]] void fail(const std::string& what) {
        std::string detail = openssl_errors();
        throw TransportError(Kind::Tls, detail.empty() ? what : what + ": " + detail);
    }

    // An I/O error or timeout of the inner stream is reported as itself, not
    // as a TLS failure, so a read timeout stays a Timeout.
    void rethrow_inner() {
        if (m_target.error) {
            std::exception_ptr e = m_target.error;
            if (!m_target.retryable) m_broken = true;
            m_target.error = nullptr;
            m_target.retryable = false;
            ERR_clear_error();
            std::rethrow_exception(e);
        }
    }

    void check_open() const {
        if (m_closed) throw TransportError(Kind::Closed, describe() + " is closed");
        if (m_broken) throw TransportError(Kind::Io, describe() + " failed earlier");
    }

    StreamPtr m_inner;
    std::string m_name;
    BioTarget m_target;
    SSL_CTX* m_ctx = nullptr;
    SSL* m_ssl = nullptr;
    bool m_closed = false;
    bool m_broken = false;
    std::string m_leaf_fingerprint;  // noted during verification
};

}  // namespace

StreamPtr wrap_tls(StreamPtr inner, const std::string& host, const TlsOptions& options) {
    if (!inner) throw TransportError(Kind::Tls, "wrap_tls: no stream to wrap");
    std::string name = options.server_name.empty() ? host : options.server_name;
    // "[::1]" as written in URLs and config files.
    if (name.size() > 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
    auto stream = std::make_unique<TlsStream>(std::move(inner), std::move(name));
    stream->handshake(options);
    return stream;
}

}  // namespace imapkeep::transport
