#include "imap/server_uids.hpp"

#include <imapkeep/imap/errors.hpp>
#include <stdexcept>
#include <string>

namespace imapkeep::imap {

Uid node_uid(const wire::Node& n) {
    if (n.kind != wire::Node::Kind::Number) throw Error("expected a UID, got '" + n.text + "'");
    if (n.number == 0 || n.number > 0xffffffffu)
        throw Error("not a UID: " + std::to_string(n.number));
    return Uid(static_cast<std::uint32_t>(n.number));
}

UidSet parse_uid_set(std::string_view text) {
    try {
        return UidSet::parse(text);
    } catch (const std::invalid_argument& e) {
        throw Error(std::string("bad UID set from the server: ") + e.what());
    }
}

void merge_into(UidSet& into, const UidSet& more) {
    if (into.empty()) {
        into = more;
        return;
    }
    if (more.empty()) return;
    if (more.ranges().front().first > into.ranges().back().last) {
        for (const auto& r : more.ranges()) into.add_range(Uid(r.first), Uid(r.last));
        return;
    }
    std::vector<UidSet::Range> all(into.ranges());
    all.insert(all.end(), more.ranges().begin(), more.ranges().end());
    into = UidSet::from_ranges(std::move(all));
}

}  // namespace imapkeep::imap
