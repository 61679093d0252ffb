// Private: the openssh engine of the SSH transport (ssh.hpp): OpenSSH's `ssh`
// client as a child process whose stdin/stdout carry the stream.
#pragma once

#include <imapkeep/transport/ssh.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::transport::openssh {

// The argv that runs ssh for `options` (argv[0] is options.program). Values
// go in as single arguments, never through a shell; the destination follows
// "--", so no host becomes an option. Throws TransportError(Ssh) for values
// ssh would read as something else (a host starting with '-' or holding '@'
// or blanks, a path with "${" or a control character) and
// TransportError(Auth) when a passphrase or password source is set: ssh runs
// in BatchMode and never asks.
std::vector<std::string> build_argv(const SshOptions& options);

// What ssh's own stderr says about a failure before the session was up:
// HostKey (unknown, changed or revoked key), Auth ("Permission denied"),
// Resolve, Io (connection refused), Timeout, else Ssh.
TransportError::Kind classify_failure(std::string_view ssh_stderr);

StreamPtr connect(const SshOptions& options);
std::string check(const SshOptions& options);

}  // namespace imapkeep::transport::openssh
