// SSH stream transport (issue 5). Two modes: exec (run a remote command that
// speaks IMAP on its stdio, e.g. /usr/lib/dovecot/imap) and forward (a
// direct-tcpip channel to host:port as the SSH server sees it). Two engines
// with one contract (issue 10):
//   - libssh2 (the default): in-process, needs no binary;
//   - openssh: OpenSSH's `ssh` client as a child process, run from an argv
//     without a shell, for its AES-GCM speed (libssh2 1.10 has no AEAD cipher
//     and decrypts 16 bytes per call). The options below become ssh's -p, -l,
//     -i (IdentitiesOnly), UserKnownHostsFile (no global file),
//     StrictHostKeyChecking (accept-new or yes), ConnectTimeout and
//     ServerAliveInterval; BatchMode=yes, so no prompt ever: `passphrase`
//     and `password` must be empty (TransportError Auth otherwise). connect_ssh
//     returns once ssh has authenticated.
// Host keys are checked against known_hosts (hashed entries and [host]:port
// supported); an unknown key is added only with accept_new_host_key, a changed
// one never. Errors: TransportError with Kind::HostKey, Auth, Ssh, Io, Timeout,
// Resolve; the same kinds for the same failures whichever the engine.
#pragma once

#include <imapkeep/transport/stream.hpp>

#include <functional>

namespace imapkeep::transport {

enum class SshEngine { Libssh2, OpenSsh };

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
    SshEngine engine = SshEngine::Libssh2;
    // openssh engine only. `program`: the client, looked up on $PATH unless it
    // holds a '/'. `ssh_config`: "" reads ssh's own files (~/.ssh/config,
    // /etc/ssh/ssh_config) for what the options above leave open (ProxyJump,
    // say); "none" reads none; else a file (-F). The options above always win.
    std::string program = "ssh";
    std::string ssh_config;
};

// Either engine, as options.engine says. Nothing is read from the stream yet.
StreamPtr connect_ssh(const SshOptions& options);

// For `imapkeep doctor`: connects and authenticates as connect_ssh does, then
// closes. Returns "<engine>, cipher <name>" (e.g. "openssh, cipher
// aes128-gcm@openssh.com"). Throws what connect_ssh throws.
std::string check_ssh(const SshOptions& options);

// "libssh2" or "openssh".
const char* engine_name(SshEngine engine);

}  // namespace imapkeep::transport
