#include "cli/provider_presets.hpp"

namespace imapkeep::cli {

std::optional<ProviderPacing> provider_pacing(std::string_view provider) {
    // Quirk(Gmail): about 2,500 MB of IMAP download and 500 MB of upload
    // (a restore's APPENDs) a day, and at most 15 connections per account
    // (imapsync's Gmail FAQ).
    if (provider == "google") return ProviderPacing{15, 0, 2500, 500};
    // Quirk(O365): about 3,600 messages an hour, then "Suggested Backoff Time".
    if (provider == "microsoft") return ProviderPacing{0, 1, 0};
    return std::nullopt;
}

}  // namespace imapkeep::cli
