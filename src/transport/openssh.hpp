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

// What ssh's environment gains (detail::ChildSpec::environment), given the
// GLIBC_TUNABLES this process has (null: none). Quirk(OpenSSH): ssh's
// channel buffers grow to the window's 2 MB and shrink again, and glibc's
// malloc serves each growth past its mmap threshold with fresh pages: in a
// cold backup of 20k messages (550 MB) over exec, ssh spent 6.6 s of CPU,
// most of it in page faults and TLB flushes, and 2.1 s with a threshold
// above those sizes (issue 10). A user's own GLIBC_TUNABLES is kept as it is.
std::vector<std::string> ssh_environment(const char* inherited_tunables);

StreamPtr connect(const SshOptions& options);
std::string check(const SshOptions& options);

}  // namespace imapkeep::transport::openssh
