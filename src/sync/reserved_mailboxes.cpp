// Mailboxes that hold no mail (reserved_mailboxes.hpp).
#include <imapkeep/sync/reserved_mailboxes.hpp>

#include <strings.h>

namespace imapkeep::sync {

namespace {

bool contains_ignoring_case(std::string_view text, std::string_view part) {
    if (part.size() > text.size()) return false;
    for (std::size_t i = 0; i + part.size() <= text.size(); ++i)
        if (::strncasecmp(text.data() + i, part.data(), part.size()) == 0) return true;
    return false;
}

}  // namespace

bool is_microsoft_exchange(imap::Client& client) {
    // Quirk(O365): "* OK The Microsoft Exchange IMAP4 service is ready. [...]";
    // after login Exchange Online also announces capabilities of its own.
    return contains_ignoring_case(client.greeting().text, "Microsoft Exchange") ||
           client.has_capability("CLIENTNETWORKPRESENCELOCATION") ||
           client.has_capability("CLIENTACCESSRULES");
}

std::optional<std::string> reserved_mailbox(imap::Client& client, std::string_view name) {
    // Quirk(O365): the system folder Files (Exchange folder names ignore case).
    constexpr std::string_view kFiles = "Files";
    if (name.size() == kFiles.size() && ::strncasecmp(name.data(), kFiles.data(), kFiles.size()) == 0 &&
        is_microsoft_exchange(client))
        return "Microsoft 365 reserves the folder " + std::string(name) +
               " for copies of attachments, not mail";
    return std::nullopt;
}

}  // namespace imapkeep::sync
