#include <imapkeep/transport/tcp.hpp>
#include <imapkeep/transport/tls.hpp>
#include <imapkeep/util/fingerprint.hpp>

#include "transport/loopback.hpp"

#include <catch2/catch.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

using imapkeep::test::Listener;
using imapkeep::transport::connect_tcp;
using imapkeep::transport::Stream;
using imapkeep::transport::StreamPtr;
using imapkeep::transport::TlsOptions;
using imapkeep::transport::TransportError;
using imapkeep::transport::wrap_tls;
using Kind = TransportError::Kind;
using namespace std::chrono_literals;

namespace {

// A CA and a "localhost" server certificate, made once per test run by the
// same script the Dovecot test environment uses.
struct Certs {
    std::string dir;
    ~Certs() {
        if (!dir.empty()) std::system(("rm -rf '" + dir + "'").c_str());
    }
    std::string ca() const { return dir + "/ca.pem"; }
    std::string cert() const { return dir + "/server.pem"; }
    std::string key() const { return dir + "/server.key"; }
};

const Certs& certs() {
    static Certs c = [] {
        char tmpl[] = "/tmp/imapkeep-tls-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        std::string cmd = std::string("sh '") + IMAPKEEP_SOURCE_DIR + "/scripts/test-env/ca.sh' '" + tmpl + "'";
        REQUIRE(std::system(cmd.c_str()) == 0);
        return Certs{tmpl};
    }();
    return c;
}

struct ServerSeen {
    std::mutex mutex;
    bool handshake_ok = false;
    std::string sni;
    std::string client_cert_cn;
};

// What the TLS server does after its handshake succeeded.
using TlsHandler = std::function<void(SSL*)>;

// Accepts one TLS connection on 127.0.0.1 and runs `handler`; a failed
// handshake (the client rejected us) just ends the thread.
class TlsServer {
public:
    // `cert`/`key` default to the test CA's "localhost" certificate.
    explicit TlsServer(TlsHandler handler, bool request_client_cert = false, std::string cert = "",
                       std::string key = "")
        : m_cert(cert.empty() ? certs().cert() : std::move(cert)),
          m_key(key.empty() ? certs().key() : std::move(key)),
          m_listener([this, handler = std::move(handler), request_client_cert](int fd) {
              serve(fd, handler, request_client_cert);
          }) {}
    int port() const { return m_listener.port(); }
    ServerSeen& seen() {
        m_listener.join();
        return m_seen;
    }

private:
    void serve(int fd, const TlsHandler& handler, bool request_client_cert) {
        SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
        SSL_CTX_use_certificate_chain_file(ctx, m_cert.c_str());
        SSL_CTX_use_PrivateKey_file(ctx, m_key.c_str(), SSL_FILETYPE_PEM);
        if (request_client_cert) {
            // Accept any client certificate; the test checks which one came.
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
        }
        SSL* ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1) {
            {
                std::lock_guard lock(m_seen.mutex);
                m_seen.handshake_ok = true;
                const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
                m_seen.sni = sni ? sni : "";
                if (X509* peer = SSL_get1_peer_certificate(ssl)) {
                    char cn[256] = "";
                    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
                    m_seen.client_cert_cn = cn;
                    X509_free(peer);
                }
            }
            handler(ssl);
        }
        ERR_clear_error();
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }

    std::string m_cert;
    std::string m_key;
    ServerSeen m_seen;
    Listener m_listener;
};

// A "localhost" certificate made here: signed by the test CA but expired, or
// self-signed. Returns {cert.pem, key.pem} under the certs() dir.
enum class Odd { Expired, SelfSigned };
std::pair<std::string, std::string> odd_certificate(Odd odd) {
    const std::string stem = certs().dir + (odd == Odd::Expired ? "/expired" : "/selfsigned");
    EVP_PKEY* key = EVP_RSA_gen(2048);
    REQUIRE(key);
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), odd == Odd::Expired ? 7001 : 7002);
    if (odd == Odd::Expired) {
        X509_gmtime_adj(X509_getm_notBefore(x), -10L * 86400);
        X509_gmtime_adj(X509_getm_notAfter(x), -1L * 86400);
    } else {
        X509_gmtime_adj(X509_getm_notBefore(x), -3600);
        X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    }
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_pubkey(x, key);
    X509V3_CTX ext_ctx;
    X509* issuer = x;
    EVP_PKEY* signer = key;
    X509* ca = nullptr;
    EVP_PKEY* ca_key = nullptr;
    if (odd == Odd::Expired) {
        FILE* f = std::fopen(certs().ca().c_str(), "r");
        ca = PEM_read_X509(f, nullptr, nullptr, nullptr);
        std::fclose(f);
        f = std::fopen((certs().dir + "/ca.key").c_str(), "r");
        ca_key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
        std::fclose(f);
        REQUIRE((ca && ca_key));
        issuer = ca;
        signer = ca_key;
    }
    X509_set_issuer_name(x, X509_get_subject_name(issuer));
    X509V3_set_ctx(&ext_ctx, issuer, x, nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ext_ctx, NID_subject_alt_name, "DNS:localhost");
    X509_add_ext(x, san, -1);
    X509_EXTENSION_free(san);
    REQUIRE(X509_sign(x, signer, EVP_sha256()) > 0);
    FILE* out = std::fopen((stem + ".pem").c_str(), "w");
    PEM_write_X509(out, x);
    std::fclose(out);
    out = std::fopen((stem + ".key").c_str(), "w");
    PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(out);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
    return {stem + ".pem", stem + ".key"};
}

// The SHA-256 fingerprint of a PEM certificate file, "sha256:ab:..".
std::string fingerprint_of(const std::string& pem) {
    FILE* f = std::fopen(pem.c_str(), "r");
    X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    X509_digest(x, EVP_sha256(), digest, &length);
    X509_free(x);
    std::string out = "sha256:";
    char byte[4];
    for (unsigned int i = 0; i < length; ++i) {
        std::snprintf(byte, sizeof byte, i ? ":%02X" : "%02X", digest[i]);
        out += byte;
    }
    return out;
}

std::string ssl_read_line(SSL* ssl) {
    std::string line;
    char c;
    while (line.empty() || line.back() != '\n') {
        if (SSL_read(ssl, &c, 1) != 1) break;
        line += c;
    }
    return line;
}

void echo_one_line(SSL* ssl) {
    std::string line = ssl_read_line(ssl);
    std::string reply = "echo " + line;
    SSL_write(ssl, reply.data(), static_cast<int>(reply.size()));
    SSL_shutdown(ssl);
}

std::string read_to_eof(Stream& s) {
    std::string out;
    char buf[1024];
    while (std::size_t n = s.read_some(buf)) out.append(buf, n);
    return out;
}

StreamPtr connect(const TlsServer& server, const std::string& host, const TlsOptions& options) {
    imapkeep::transport::TcpOptions tcp;
    tcp.read_timeout = 10s;
    return wrap_tls(connect_tcp("127.0.0.1", server.port(), tcp), host, options);
}

TlsOptions with_ca() {
    TlsOptions o;
    o.ca_file = certs().ca();
    return o;
}

}  // namespace

TEST_CASE("tls verifies the chain and host name and sends SNI", "[transport][tls]") {
    TlsServer server(echo_one_line);
    StreamPtr s = connect(server, "localhost", with_ca());
    CHECK(s->describe() == "tls localhost over tcp 127.0.0.1:" + std::to_string(server.port()));
    CHECK(s->native_handle() >= 0);
    s->write_all("a001 NOOP\r\n");
    CHECK(read_to_eof(*s) == "echo a001 NOOP\r\n");
    auto& seen = server.seen();
    CHECK(seen.sni == "localhost");
}

TEST_CASE("tls verification failures are Tls errors naming the reason", "[transport][tls]") {
    struct Case {
        std::string name;
        std::string host;
        TlsOptions options;
        std::string reason;
    };
    TlsOptions other_name = with_ca();
    other_name.server_name = "imap.example.org";
    const std::vector<Case> cases = {
        {"IP literal not in the certificate", "127.0.0.1", with_ca(), "mismatch"},
        {"other host name", "localhost", other_name, "hostname mismatch"},
        {"CA unknown (system store)", "localhost", TlsOptions{}, "certificate verify failed"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        TlsServer server(echo_one_line);
        std::string message;
        Kind kind = Kind::Io;
        try {
            connect(server, c.host, c.options);
        } catch (const TransportError& e) {
            kind = e.kind();
            message = e.what();
        }
        CHECK(kind == Kind::Tls);
        CHECK(message.find("certificate verify failed") != std::string::npos);
        CHECK(message.find(c.reason) != std::string::npos);
        CHECK_FALSE(server.seen().handshake_ok);
    }
}

TEST_CASE("tls with verify=false accepts any certificate; no SNI for IP literals", "[transport][tls]") {
    TlsServer server(echo_one_line);
    TlsOptions options;
    options.verify = false;
    StreamPtr s = connect(server, "127.0.0.1", options);
    s->write_all("x\n");
    CHECK(read_to_eof(*s) == "echo x\n");
    CHECK(server.seen().sni.empty());
}

TEST_CASE("tls bad options are Tls errors", "[transport][tls]") {
    struct Case {
        std::string name;
        TlsOptions options;
    };
    TlsOptions missing_ca;
    missing_ca.ca_file = "/nonexistent/ca.pem";
    TlsOptions bad_version = with_ca();
    bad_version.min_version = "1.1";
    TlsOptions missing_cert = with_ca();
    missing_cert.client_cert_file = "/nonexistent/client.pem";
    const std::vector<Case> cases = {
        {"missing CA file", missing_ca}, {"TLS 1.1", bad_version}, {"missing client cert", missing_cert}};
    for (const auto& c : cases) {
        INFO(c.name);
        TlsServer server([](SSL*) {});
        Kind kind = Kind::Io;
        try {
            connect(server, "localhost", c.options);
        } catch (const TransportError& e) {
            kind = e.kind();
        }
        CHECK(kind == Kind::Tls);
    }
}

TEST_CASE("tls 1.3 minimum and client certificates", "[transport][tls]") {
    TlsServer server(echo_one_line, /*request_client_cert=*/true);
    TlsOptions options = with_ca();
    options.min_version = "1.3";
    // The server's own pair serves as a client certificate here.
    options.client_cert_file = certs().cert();
    options.client_key_file = certs().key();
    StreamPtr s = connect(server, "localhost", options);
    s->write_all("tls13\n");
    CHECK(read_to_eof(*s) == "echo tls13\n");
    CHECK(server.seen().client_cert_cn == "localhost");
}

TEST_CASE("tls read timeout surfaces as Timeout and the session resumes", "[transport][tls]") {
    TlsServer server([](SSL* ssl) {
        std::string line = ssl_read_line(ssl);  // only after the client's timeout
        std::string reply = "late " + line;
        SSL_write(ssl, reply.data(), static_cast<int>(reply.size()));
        SSL_shutdown(ssl);
    });
    StreamPtr s = connect(server, "localhost", with_ca());
    s->set_read_timeout(100ms);
    char buf[64];
    Kind kind = Kind::Io;
    try {
        s->read_some(buf);
    } catch (const TransportError& e) {
        kind = e.kind();
    }
    CHECK(kind == Kind::Timeout);
    s->set_read_timeout(10s);
    s->write_all("go\n");
    CHECK(read_to_eof(*s) == "late go\n");
}

TEST_CASE("tls pending() counts decrypted bytes not yet returned", "[transport][tls]") {
    TlsServer server([](SSL* ssl) {
        std::string both = "one\r\ntwo\r\n";  // one record
        SSL_write(ssl, both.data(), static_cast<int>(both.size()));
        ssl_read_line(ssl);
    });
    StreamPtr s = connect(server, "localhost", with_ca());
    char buf[5];
    std::size_t n = s->read_some(buf);
    CHECK(std::string(buf, n) == "one\r\n");
    CHECK(s->pending() == 5);
    n = s->read_some(buf);
    CHECK(std::string(buf, n) == "two\r\n");
    CHECK(s->pending() == 0);
    s->write_all("done\n");
}

TEST_CASE("tls EOF without close_notify reads as 0", "[transport][tls]") {
    TlsServer server([](SSL* ssl) {
        std::string msg = "* BYE\r\n";
        SSL_write(ssl, msg.data(), static_cast<int>(msg.size()));
        // Quirk being simulated: the server drops TCP without close_notify.
    });
    StreamPtr s = connect(server, "localhost", with_ca());
    CHECK(read_to_eof(*s) == "* BYE\r\n");
}

TEST_CASE("tls handshake against a plain-text server fails as Tls, not a hang", "[transport][tls]") {
    Listener plain([](int fd) { imapkeep::test::write_fd(fd, "* OK plain IMAP here\r\n"); });
    imapkeep::transport::TcpOptions tcp;
    tcp.read_timeout = 10s;
    Kind kind = Kind::Io;
    auto start = std::chrono::steady_clock::now();
    try {
        wrap_tls(connect_tcp("127.0.0.1", plain.port(), tcp), "localhost", with_ca());
    } catch (const TransportError& e) {
        kind = e.kind();
    }
    CHECK(kind == Kind::Tls);
    CHECK(std::chrono::steady_clock::now() - start < 5s);
}

// A peer that hangs up during the handshake is a network failure a retry may
// fix; one that answers with something that is not TLS is a misconfiguration.
TEST_CASE("tls handshake cut by the peer is a network error; a non-TLS answer is Tls",
          "[transport][tls]") {
    struct Case {
        const char* name;
        std::function<void(int)> server;
        Kind expected;
    };
    const Case cases[] = {
        {"closed before any byte", [](int) {}, Kind::Io},
        {"closed after reading the ClientHello",
         [](int fd) {
             char buf[512];
             [[maybe_unused]] auto n = ::recv(fd, buf, sizeof buf, 0);
         },
         Kind::Io},
        {"answers in plain text", [](int fd) { imapkeep::test::write_fd(fd, "* OK plain IMAP here\r\n"); },
         Kind::Tls},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            Listener peer(c.server);
            imapkeep::transport::TcpOptions tcp;
            tcp.read_timeout = 10s;
            std::optional<Kind> kind;
            std::string what;
            try {
                wrap_tls(connect_tcp("127.0.0.1", peer.port(), tcp), "localhost", with_ca());
            } catch (const TransportError& e) {
                kind = e.kind();
                what = e.what();
            }
            INFO(what);
            REQUIRE(kind.has_value());
            CHECK(*kind == c.expected);
        }
    }
}

TEST_CASE("tls use after close throws Closed", "[transport][tls]") {
    TlsServer server([](SSL* ssl) { ssl_read_line(ssl); });
    StreamPtr s = connect(server, "localhost", with_ca());
    s->close();
    s->close();
    char buf[4];
    Kind kind = Kind::Io;
    try {
        s->read_some(buf);
    } catch (const TransportError& e) {
        kind = e.kind();
    }
    CHECK(kind == Kind::Closed);
}

TEST_CASE("expired, self-signed and wrong-host certificates are refused by default", "[transport][tls]") {
    auto expired = odd_certificate(Odd::Expired);
    auto self_signed = odd_certificate(Odd::SelfSigned);
    struct Case {
        const char* name;
        std::pair<std::string, std::string> cert;  // empty: the good "localhost" one
        std::string host;
        const char* reason;
    };
    const Case cases[] = {
        {"expired", expired, "localhost", "certificate has expired"},
        {"self-signed", self_signed, "localhost", "self-signed certificate"},
        {"wrong host name", {}, "imap.example.org", "hostname mismatch"},
        {"reached by an address the certificate does not name", {}, "127.0.0.1", "mismatch"},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            TlsServer server(echo_one_line, false, c.cert.first, c.cert.second);
            std::string message;
            try {
                connect(server, c.host, with_ca());
            } catch (const TransportError& e) {
                CHECK(e.kind() == Kind::Tls);
                message = e.what();
            }
            INFO(message);
            CHECK(message.find(c.reason) != std::string::npos);
            // The refusal names the certificate, so the user can pin it on purpose.
            CHECK(message.find("(certificate sha256:") != std::string::npos);
            CHECK_FALSE(server.seen().handshake_ok);
        }
    }
}

TEST_CASE("a pinned fingerprint accepts exactly that certificate", "[transport][tls]") {
    auto self_signed = odd_certificate(Odd::SelfSigned);
    const std::string pin = fingerprint_of(self_signed.first);
    SECTION("the pinned self-signed certificate, by any host name") {
        TlsServer server(echo_one_line, false, self_signed.first, self_signed.second);
        TlsOptions options;
        options.pinned_sha256 = {"sha256:0000", pin};
        StreamPtr s = connect(server, "127.0.0.1", options);
        s->write_all("x\n");
        CHECK(read_to_eof(*s) == "echo x\n");
    }
    SECTION("another certificate, even one the CA vouches for, is refused") {
        TlsServer server(echo_one_line);
        TlsOptions options = with_ca();
        options.pinned_sha256 = {pin};
        std::string message;
        try {
            connect(server, "localhost", options);
        } catch (const TransportError& e) {
            CHECK(e.kind() == Kind::Tls);
            message = e.what();
        }
        CHECK(message.find("is not the pinned one") != std::string::npos);
        CHECK(message.find(imapkeep::util::normalize_fingerprint(fingerprint_of(certs().cert())).value_or("?").substr(0, 2)) != std::string::npos);
    }
    SECTION("fingerprints are normalised") {
        using imapkeep::util::normalize_fingerprint;
        auto hex = normalize_fingerprint(pin);
        REQUIRE(hex);
        CHECK(hex->size() == 64);
        CHECK(normalize_fingerprint(*hex) == hex);
        CHECK(normalize_fingerprint("SHA256:" + *hex) == hex);
        CHECK_FALSE(normalize_fingerprint("sha256:zz"));
        CHECK_FALSE(normalize_fingerprint(hex->substr(2)));
    }
}
