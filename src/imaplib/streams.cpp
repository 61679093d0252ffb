// IMAP4_SSL (implicit TLS) and IMAP4_stream (a child process): IMAP4 with
// another open().
#include <imapkeep/imaplib.hpp>

#include <imapkeep/transport/process.hpp>
#include <imapkeep/transport/tcp.hpp>
#include <imapkeep/transport/tls.hpp>

namespace imaplib {

namespace ik = imapkeep;

IMAP4_SSL::IMAP4_SSL(std::string host_, int port_, TlsOptions ssl_context,
                     std::optional<double> timeout)
    : IMAP4(Deferred{}), m_tls(std::move(ssl_context)) {
    start(std::move(host_), port_, timeout);
}

void IMAP4_SSL::open(std::string host_, int port_, std::optional<double> timeout) {
    host = std::move(host_);
    port = port_;
    auto tcp = connect_tcp_stream(timeout);
    try {
        // The name checked against the certificate; "" means the local host.
        set_stream(ik::transport::wrap_tls(std::move(tcp), host.empty() ? "localhost" : host, m_tls));
    } catch (const ik::transport::TransportError& e) {
        throw abort(std::string("socket error: ") + e.what());
    }
}

IMAP4_stream::IMAP4_stream(std::string command_) : IMAP4(Deferred{}), m_command(std::move(command_)) {
    start("", 0, std::nullopt);
}

void IMAP4_stream::open(std::string, int, std::optional<double>) {
    host.clear();
    port = 0;
    try {
        set_stream(ik::transport::spawn_process(m_command));
    } catch (const ik::transport::TransportError& e) {
        throw abort(std::string("cannot run command: ") + e.what());
    }
}

}  // namespace imaplib
