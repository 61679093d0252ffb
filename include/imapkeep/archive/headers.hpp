// The few header fields an archive index needs, read from a message's header
// block (RFC 5322 §2.2: name ":" value, continuation lines start with WSP).
// No RFC 2047 decoding: values are given as they are in the message, unfolded.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace imapkeep::archive {

struct HeaderSummary {
    std::string from;
    std::string subject;
    std::string date;
    std::string message_id;
    std::string return_path;
};

// Parses the header block (stops at the first empty line; CRLF or LF).
HeaderSummary parse_header_summary(std::string_view message_start);

// The bare address of a From/Return-Path value: the part in <...> if any, else
// the first word containing "@", else "".
std::string bare_address(std::string_view value);

// Reads up to `limit` bytes of a file's header block (up to and including the
// empty line). Throws std::system_error when it cannot be read.
std::string read_header_block(const std::string& path, std::size_t limit = 256 * 1024);

}  // namespace imapkeep::archive
