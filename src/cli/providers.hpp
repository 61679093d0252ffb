// Presets for the big mail providers (issue 12): `provider = "google"` or
// `"microsoft"` in an [[account]] fills in what every user of that provider
// would otherwise copy from its documentation. An explicit key always wins
// over the preset.
//
// Contract: the table is constant and lives for the whole program. Add a
// field here (e.g. rate limits) and fill it in providers.cpp; config.cpp reads
// the preset through find_provider() only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::cli {

struct Provider {
    std::string_view name;  // the config value: "google", "microsoft"
    // IMAP: host and implicit-TLS port, the defaults of host and port.
    std::string_view imap_host;
    int imap_port = 993;
    // OAuth2 (RFC 6749 §3.2 token endpoint, RFC 8628 §3.1 device endpoint) and
    // the scopes that grant IMAP access, space-separated.
    std::string_view token_url;
    std::string_view device_url;
    std::string_view scopes;
};

// The preset named `name`, or nullptr.
const Provider* find_provider(std::string_view name);

// Every preset's name, in table order (for error messages and docs).
std::vector<std::string> provider_names();

}  // namespace imapkeep::cli
