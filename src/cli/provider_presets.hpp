// Provider presets, pacing part (issue 12): `provider = "google"` or
// `"microsoft"` in an account sets safe limits for that provider. An explicit
// key in the account wins over its preset. (The OAuth endpoints of the same
// presets live with the OAuth configuration.)
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace imapkeep::cli {

struct ProviderPacing {
    int max_connections = 0;                 // 0 = no cap
    double max_messages_per_second = 0;      // 0 = no limit
    std::uint64_t daily_download_mb = 0;     // 0 = no budget
    std::uint64_t daily_upload_mb = 0;       // restore's budget; 0 = none
};

// The accepted names, for the config's error message.
inline constexpr const char* kProviderNames[] = {"google", "microsoft"};

// nullopt for an unknown name.
std::optional<ProviderPacing> provider_pacing(std::string_view provider);

}  // namespace imapkeep::cli
