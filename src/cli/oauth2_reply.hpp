// What an OAuth2 token endpoint answers (RFC 6749 §5.1 success, §5.2 error),
// and the device endpoint (RFC 8628 §3.2). Pure parsing, no I/O.
//
// Contract: a reply that is not the JSON object the RFC describes becomes an
// error reply with error = "invalid_response"; no exception. Token values are
// never copied into an error's text.
#pragma once

#include "cli/http_post.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace imapkeep::cli {

struct TokenReply {
    // Success: access_token set; refresh_token only when the server sent a
    // (new) one; expires_in 0 when the server did not say.
    std::string access_token;
    std::string refresh_token;
    std::chrono::seconds expires_in{0};
    // Error: error set ("invalid_grant", "authorization_pending", ...).
    std::string error;
    std::string error_description;  // printable, at most 200 bytes
    long status = 0;                 // the HTTP status

    bool ok() const { return error.empty(); }
};

TokenReply parse_token_reply(const HttpResponse& response);

struct DeviceGrant {
    std::string device_code;
    std::string user_code;
    std::string verification_uri;
    std::string verification_uri_complete;  // may be empty
    std::chrono::seconds expires_in{0};
    std::chrono::seconds interval{5};  // RFC 8628 §3.2: 5 when absent
};

// The device endpoint's answer, or a TokenReply-style error in `error`.
struct DeviceReply {
    std::optional<DeviceGrant> grant;
    std::string error;
    std::string error_description;
    long status = 0;
};

DeviceReply parse_device_reply(const HttpResponse& response);

}  // namespace imapkeep::cli
