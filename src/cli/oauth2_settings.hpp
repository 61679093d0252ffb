// An account's OAuth2 client settings (issue 12), as the config gives them
// (config.cpp: auth = "oauth2", provider, oauth2_* keys; imapkeep.toml(5)).
#pragma once

#include <functional>
#include <string>

namespace imapkeep::cli {

struct OAuth2Settings {
    std::string account;
    std::string token_url;   // RFC 6749 §3.2
    std::string device_url;  // RFC 8628 §3.1; "" = `imapkeep auth` cannot run
    std::string scopes;      // space-separated
    std::string client_id;
    // Empty: a public client, no secret is sent (Microsoft's device flow).
    std::function<std::string()> client_secret;
    // Where the refresh token comes from: a command, a file, or (both empty)
    // the token cache, where `imapkeep auth` puts it.
    std::string refresh_token_command;
    std::string refresh_token_file;
    // `imapkeep auth` pipes a new refresh token to this command's stdin
    // (a password manager) instead of writing a file; "" = none.
    std::string refresh_token_store_command;
    // The access token and its expiry, and the refresh token when it has no
    // other source. JSON, mode 0600. Default: <config dir>/<account>.oauth2.json.
    std::string cache_file;
    std::string ca_file;  // CAs for the token endpoints; "" = the system's

    bool refresh_token_in_cache() const { return refresh_token_command.empty() && refresh_token_file.empty(); }
};

}  // namespace imapkeep::cli
