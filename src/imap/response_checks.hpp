// Checks on the untagged data the typed client reads (RFC 3501 §7, RFC 4731,
// RFC 5819, RFC 7162), made before any handler sees it. Data that fails them
// fails the command in flight that needs it, or is skipped with one warning
// per kind when none does (issue 9, case D).
#pragma once

#include <imapkeep/wire/response.hpp>

#include <optional>
#include <string>

namespace imapkeep::imap {

// The kind of an untagged response, as commands declare what they need and
// as warnings name it: its type ("FETCH", "LIST", ...), or for a status
// response with a code the client reads, e.g. "OK [HIGHESTMODSEQ]".
std::string response_kind(const wire::Response& response);

// What is wrong with an untagged response of a kind the client reads, or
// nullopt. Kinds it does not read are never wrong.
std::optional<std::string> data_problem(const wire::Response& response);

// The tag an ESEARCH response names (search-correlator, RFC 4731 §3), if any.
std::optional<std::string> esearch_tag(const wire::Response& response);

}  // namespace imapkeep::imap
