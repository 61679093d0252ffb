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
    // status-att-val =/ "APPENDLIMIT" SP (number / nil)   (RFC 7889 §4)
    std::optional<std::uint64_t> limit;
    auto on_status = [&](const wire::Response& r, const wire::Frame&) {
        if (r.type != "STATUS" || r.args.size() < 2 || r.args[1].kind != wire::Node::Kind::List) return false;
        const auto& items = r.args[1].items;
        for (std::size_t i = 0; i + 1 < items.size(); i += 2)
            if (items[i].is_atom("APPENDLIMIT") && items[i + 1].kind == wire::Node::Kind::Number)
                limit = items[i + 1].number;
        return true;
    };
    auto c = client.run("STATUS", {wire::Arg::mailbox(client.encode_mailbox(mailbox)), wire::Arg::raw("(APPENDLIMIT)")},
                        on_status);
    return c.status == "OK" ? limit : std::nullopt;
}

}  // namespace imapkeep::archive::detail
