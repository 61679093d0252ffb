// Where passwords and tokens come from: a command (run via /bin/sh -c, first
// line of its stdout), a file (first line), an inline value, or the
// IMAPKEEP_PASSWORD environment variable.
//
// Contract: a secret is never logged, never put in an exception message and
// never passed on a command line. Failures throw SecretError naming the
// account and the config key, not the secret nor the command's stdout.
#pragma once

#include <imapkeep/imap/connect.hpp>

#include <functional>
#include <optional>
#include <string>

namespace imapkeep::cli {

// An authentication failure as far as exit codes go (3): the engine treats it
// like a rejected password, whichever connection asked for it.
class SecretError : public imap::ConnectError {
public:
    explicit SecretError(const std::string& message)
        : imap::ConnectError(imap::ConnectError::Kind::Auth, message) {}
};

// Runs `command` with /bin/sh -c, stdin inherited and its stderr passed on to
// ours as it comes (so a pinentry or a `pass` prompt still works), and returns
// the first line of its stdout without the line end. `what` (e.g. "account
// work: password_command") prefixes errors. A non-zero exit, a signal or an
// empty first line -> SecretError, ending with the first line the command
// wrote to stderr (its cause, e.g. "gpg: decryption failed: No secret key").
std::string run_secret_command(const std::string& command, const std::string& what);

// First line of a file, without the line end. Unreadable or empty -> SecretError.
std::string read_secret_file(const std::string& path, const std::string& what);

// Wraps a fetch so it runs at most once: the first call's result (or error) is
// what every later call gets, from any thread. One `pass show` prompt per run,
// however many connections the engine opens.
std::function<std::string()> once(std::function<std::string()> fetch);

// Where an account's IMAP password comes from. At most one of the three is set;
// with none, IMAPKEEP_PASSWORD (read when the password is first needed) is the
// fallback.
struct PasswordSource {
    std::optional<std::string> inline_value;
    std::string file;
    std::string command;
};

// The lazy password function for ConnectOptions::password.
std::function<std::string()> make_password_function(const PasswordSource& source,
                                                    const std::string& account);

}  // namespace imapkeep::cli
