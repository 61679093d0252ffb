#include <imapkeep/transport/tcp.hpp>
#include <imapkeep/transport/tls.hpp>

#include "transport/loopback.hpp"

#include <catch2/catch.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
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
    explicit TlsServer(TlsHandler handler, bool request_client_cert = false)
        : m_listener([this, handler = std::move(handler), request_client_cert](int fd) {
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
        SSL_CTX_use_certificate_chain_file(ctx, certs().cert().c_str());
        SSL_CTX_use_PrivateKey_file(ctx, certs().key().c_str(), SSL_FILETYPE_PEM);
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

    ServerSeen m_seen;
    Listener m_listener;
};

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
