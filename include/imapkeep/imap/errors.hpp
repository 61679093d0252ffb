// The client's exceptions, mirroring imaplib's (DESIGN.md "Errors"):
//   Error     bad use, or a BAD reply (imaplib `error`)
//   Abort     the connection cannot go on: I/O, TLS, SSH, BYE, unparsable data,
//             timeout (imaplib `abort`); every pending command fails with it.
//             After a BYE it carries what the BYE said about pacing (hint()).
//   ReadOnly  the mailbox became read-only (imaplib `readonly`)
//   CommandFailed  a typed command got NO or BAD; carries the response code
#pragma once

#include <imapkeep/imap/server_hint.hpp>
#include <imapkeep/wire/response.hpp>

#include <optional>
#include <stdexcept>
#include <string>

namespace imapkeep::imap {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Abort : public Error {
public:
    using Error::Error;
    Abort(const std::string& message, ServerHint hint) : Error(message), m_hint(std::move(hint)) {}
    // A BYE's pacing hint (server_hint.hpp); none for other failures.
    const ServerHint& hint() const { return m_hint; }

private:
    ServerHint m_hint;
};

class ReadOnly : public Abort {
public:
    using Abort::Abort;
};

// How a tagged command ended.
struct Completion {
    std::string status;                      // "OK" | "NO" | "BAD"
    std::optional<wire::ResponseCode> code;  // [TRYCREATE], [APPENDUID ...], ...
    std::string text;
    // Non-empty: data this command needed came malformed (the first problem),
    // so its result cannot be trusted whatever the status says. The
    // connection itself is fine: the response's framing was intact.
    std::string malformed;
    bool ok() const { return status == "OK" && malformed.empty(); }
};

// Thrown by typed commands on NO (and BAD), and when data the command needed
// came malformed. is_bad() tells BAD from NO; malformed() the last case.
class CommandFailed : public Error {
public:
    CommandFailed(std::string command, Completion completion);
    const Completion& completion() const { return m_completion; }
    const std::string& command() const { return m_command; }
    bool is_bad() const { return m_completion.status == "BAD"; }
    // The server's data for the command was malformed (Completion::malformed).
    bool malformed() const { return !m_completion.malformed.empty(); }
    // The response code name ("TRYCREATE", "AUTHENTICATIONFAILED", ...) or "".
    std::string code_name() const { return m_completion.code ? m_completion.code->name : ""; }

private:
    std::string m_command;
    Completion m_completion;
};

}  // namespace imapkeep::imap
