// imaplib::IMAP4_ssh: IMAP over an SSH channel (issue 5), the SSH twin of
// IMAP4_stream. By default no ssh binary is involved (libssh2);
// options.engine = SshEngine::OpenSsh runs OpenSSH's ssh instead, with the
// same contract (transport/ssh.hpp). Two modes, chosen by the options:
//   - exec: `options.command` runs on the server and speaks IMAP on its stdio
//     (e.g. "/usr/lib/dovecot/imap"); a PREAUTH greeting leaves the instance in
//     state "AUTH", exactly as IMAP4_stream;
//   - forward: a direct-tcpip channel to `options.forward_host:forward_port`
//     as the SSH server sees them (e.g. 127.0.0.1:143); then login() as usual.
// Host keys are checked against options.known_hosts, never skipped (see
// transport/ssh.hpp). Every SSH failure (host key, authentication, channel,
// a remote command that exits at once) surfaces as `abort` carrying the
// transport's message, which names the fingerprint or the methods tried.
#pragma once

#include <imapkeep/imaplib.hpp>
#include <imapkeep/transport/ssh.hpp>

#include <optional>
#include <string>

namespace imaplib {

using SshOptions = imapkeep::transport::SshOptions;

class IMAP4_ssh : public IMAP4 {
public:
    // Connects to `host` (overriding options.host unless empty) on
    // options.port, reads the greeting and asks CAPABILITY. `timeout` seconds,
    // if given, replace options.connect_timeout and options.read_timeout; 0 or
    // less throws `error`. Neither a command nor a forward target throws `error`.
    IMAP4_ssh(std::string host, SshOptions options, std::optional<double> timeout = {});

    // Opens a new SSH connection with the stored options. `port` is the SSH
    // port (0 = keep options.port); `host` "" keeps the current one.
    void open(std::string host = "", int port = 0, std::optional<double> timeout = {}) override;

    const SshOptions& ssh_options() const { return m_options; }

private:
    SshOptions m_options;
};

}  // namespace imaplib
