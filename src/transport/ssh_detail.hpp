// Internals of the SSH transport shared by ssh.cpp (session + stream),
// ssh_hostkey.cpp (known_hosts) and ssh_auth.cpp (user authentication).
// Private: libssh2 types never leave src/transport.
#pragma once

#include <imapkeep/transport/ssh.hpp>

#include <libssh2.h>

#include <string>

namespace imapkeep::transport::ssh_detail {

// libssh2_init() exactly once per process, thread-safe.
void ensure_libssh2_init();

// "~" and "~/x" -> $HOME (or the passwd entry); anything else unchanged.
std::string expand_home(const std::string& path);

// libssh2's text for the session's last error ("" if none).
std::string last_error(LIBSSH2_SESSION* session);

// Throws TransportError(kind for rc) with "ssh: <what>: <libssh2 message>".
// LIBSSH2_ERROR_TIMEOUT maps to Timeout, socket errors to Io, the rest to Ssh.
[[noreturn]] void throw_ssh_error(LIBSSH2_SESSION* session, int rc, const std::string& what);

// The name known_hosts uses for host:port: "host" on 22, else "[host]:port".
std::string known_hosts_name(const std::string& host, int port);

// Host key algorithms to offer, comma-separated: those known_hosts already
// holds for this host first, then OpenSSH's default order.
std::string host_key_preference(const SshOptions& options);

// Checks the session's host key (after the handshake) against
// options.known_hosts. Unknown keys are appended to the file only when
// options.accept_new_host_key is set; a changed key is always refused.
// Throws TransportError(HostKey) naming the key type, the SHA256 fingerprint
// and how to accept it; TransportError(Io) if the file cannot be written.
void verify_host_key(LIBSSH2_SESSION* session, const SshOptions& options);

// "SHA256:<unpadded base64>" as OpenSSH prints it.
std::string host_key_fingerprint(LIBSSH2_SESSION* session);

// Authenticates options.user: ssh-agent, then the key file, then password /
// keyboard-interactive. Throws TransportError(Auth) listing every method tried
// and why it failed, or Timeout/Io/Ssh when the connection itself fails.
void authenticate(LIBSSH2_SESSION* session, const SshOptions& options);

// The libssh2 engine of connect_ssh and check_ssh.
StreamPtr connect_libssh2(const SshOptions& options);
std::string check_libssh2(const SshOptions& options);

}  // namespace imapkeep::transport::ssh_detail
