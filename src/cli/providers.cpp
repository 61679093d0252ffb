#include "cli/providers.hpp"

#include <array>

namespace imapkeep::cli {

namespace {

// Google: https://developers.google.com/identity/protocols/oauth2/limited-input-device
// ("https://mail.google.com/" is the only scope that allows IMAP).
// Microsoft: https://learn.microsoft.com/en-us/exchange/client-developer/
// legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
// (offline_access is what yields a refresh token).
constexpr std::array kProviders = {
    Provider{"google", "imap.gmail.com", 993, "https://oauth2.googleapis.com/token",
             "https://oauth2.googleapis.com/device/code", "https://mail.google.com/"},
    Provider{"microsoft", "outlook.office365.com", 993,
             "https://login.microsoftonline.com/common/oauth2/v2.0/token",
             "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
             "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"},
};

}  // namespace

const Provider* find_provider(std::string_view name) {
    for (const auto& p : kProviders)
        if (p.name == name) return &p;
    return nullptr;
}

std::vector<std::string> provider_names() {
    std::vector<std::string> names;
    for (const auto& p : kProviders) names.emplace_back(p.name);
    return names;
}

}  // namespace imapkeep::cli
