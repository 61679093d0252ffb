// A target mailbox's APPENDLIMIT (mailbox_append_limit.hpp).
#include "archive/mailbox_append_limit.hpp"

#include <strings.h>

#include <algorithm>

namespace imapkeep::archive::detail {

bool per_mailbox_append_limits(const std::vector<std::string>& capabilities) {
    return std::any_of(capabilities.begin(), capabilities.end(),
                       [](const std::string& c) { return ::strcasecmp(c.c_str(), "APPENDLIMIT") == 0; });
}

std::optional<std::uint64_t> mailbox_append_limit(imap::Client& client, const std::string& mailbox) {
    try {
        return client.status(mailbox, {imap::StatusItem::AppendLimit}).appendlimit;
    } catch (const imap::CommandFailed&) {
        // Refused (or answered malformed): the limit is unknown, and the
        // APPEND's own answer decides (mailbox_append_limit.hpp).
        return std::nullopt;
    }
}

}  // namespace imapkeep::archive::detail
