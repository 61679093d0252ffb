// The OAuth 2.0 device authorization grant (RFC 8628), behind
// `imapkeep auth ACCOUNT`: ask the device endpoint for a code, show the user
// where to enter it, poll the token endpoint until they have.
//
// Contract:
// - Polls no faster than the server's `interval` (5 s when absent), 5 s
//   slower after each slow_down (§3.5); authorization_pending goes on polling.
// - access_denied, expired_token, the code's expires_in running out, or any
//   other error -> OAuth2Error (Kind::Auth) naming the account and the cause.
// - Prints the verification URL and user code on `out`; never a token.
// - Returns the token endpoint's success reply (with the refresh token).
#pragma once

#include "cli/http_post.hpp"
#include "cli/oauth2_reply.hpp"
#include "cli/oauth2_settings.hpp"

#include <chrono>
#include <functional>
#include <ostream>

namespace imapkeep::cli {

using SleepFor = std::function<void(std::chrono::seconds)>;

TokenReply run_device_flow(const OAuth2Settings& settings, const HttpPost& post, std::ostream& out,
                           const SleepFor& sleep);

}  // namespace imapkeep::cli
