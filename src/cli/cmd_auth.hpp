// `imapkeep auth ACCOUNT` (issue 12): authorizes imapkeep to read an OAuth2
// account with the device flow (oauth2_device.hpp) and keeps the refresh token
// where the account's config says (oauth2_token.hpp store_refresh_token:
// the token cache file by default, mode 0600).
//
// Exit codes: 0 authorized; 2 unknown account, or one without an OAuth2
// client (auth = "oauth2" and oauth2_client_id); 3 the provider refused,
// the code expired, or the endpoint could not be reached.
#pragma once

#include "cli/commands.hpp"
#include "cli/http_post.hpp"
#include "cli/oauth2_device.hpp"

#include <string>

namespace imapkeep::cli {

struct AuthArgs {
    std::string account;
    HttpPost post;   // empty: HTTPS with the account's oauth2_ca_file
    SleepFor sleep;  // empty: really wait
};

int run_auth(const Config& config, const AuthArgs& args, Io& io);

}  // namespace imapkeep::cli
