// SSH stream transport on libssh2 (issue 5). Two modes: exec (run a remote
// command that speaks IMAP on its stdio, e.g. /usr/lib/dovecot/imap) and forward
// (a direct-tcpip channel to host:port as the SSH server sees it).
// Host keys are checked against known_hosts (hashed entries and [host]:port
// supported). Errors: TransportError with Kind::HostKey, Auth, Ssh, Io, Timeout.
#pragma once

#include <imapkeep/transport/stream.hpp>

#include <functional>

namespace imapkeep::transport {

struct SshOptions {
    std::string host;
    int port = 22;
    std::string user;
    std::string identity;              // private key file; empty = try ssh-agent only
    std::function<std::string()> passphrase;  // for an encrypted key; may be empty
    std::function<std::string()> password;    // last resort; may be empty
    std::string known_hosts = "~/.ssh/known_hosts";
    bool accept_new_host_key = false;  // adds an unknown key; never a changed one
    std::string command;               // exec mode, or:
    std::string forward_host;          // forward mode: target as the server sees it
    int forward_port = 0;
    std::optional<std::chrono::milliseconds> connect_timeout = std::chrono::seconds(30);
    std::optional<std::chrono::milliseconds> read_timeout;
    int keepalive_seconds = 60;        // 0 = off
};

StreamPtr connect_ssh(const SshOptions& options);

}  // namespace imapkeep::transport
