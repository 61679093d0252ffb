// IMAP4_ssh: IMAP4 whose open() is an SSH channel (exec or direct-tcpip).
#include <imapkeep/imaplib_ssh.hpp>

namespace imaplib {

namespace ik = imapkeep;

IMAP4_ssh::IMAP4_ssh(std::string host_, SshOptions options, std::optional<double> timeout)
    : IMAP4(Deferred{}), m_options(std::move(options)) {
    if (m_options.command.empty() && (m_options.forward_host.empty() || m_options.forward_port <= 0)) {
        throw error("IMAP4_ssh needs a remote command (exec) or a forward host and port");
    }
    if (host_.empty()) {
        host_ = m_options.host;
    }
    start(std::move(host_), m_options.port, timeout);
}

void IMAP4_ssh::open(std::string host_, int port_, std::optional<double> timeout) {
    if (!host_.empty()) {
        m_options.host = std::move(host_);
    }
    if (port_ > 0) {
        m_options.port = port_;
    }
    if (auto t = to_timeout(timeout)) {
        m_options.connect_timeout = t;
        m_options.read_timeout = t;
    }
    host = m_options.host;
    port = m_options.port;
    try {
        set_stream(ik::transport::connect_ssh(m_options));
    } catch (const ik::transport::TransportError& e) {
        throw abort(e.what());
    }
}

}  // namespace imaplib
