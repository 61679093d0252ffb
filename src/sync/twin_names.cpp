#include <imapkeep/sync/plan.hpp>
#include <imapkeep/util/sha256.hpp>
#include <map>

namespace imapkeep::sync {

namespace {

bool is_canonical(const ServerMailbox& m,
                  const std::function<std::string(const std::string&)>& canonical_wire) {
    try {
        return canonical_wire(m.name) == m.wire_name;
    } catch (const std::exception&) {
        return false;  // not even UTF-8: no client would send it for any name
    }
}

}  // namespace

std::vector<std::string> distinct_names(
    const std::vector<ServerMailbox>& listed,
    const std::function<std::string(const std::string&)>& canonical_wire) {
    std::map<std::string, std::size_t> count;
    for (const auto& m : listed) ++count[m.name];
    std::vector<std::string> names;
    names.reserve(listed.size());
    for (const auto& m : listed) {
        if (count[m.name] < 2 || is_canonical(m, canonical_wire))
            names.push_back(m.name);
        else
            names.push_back(m.name + "~" + util::sha256_hex(m.wire_name).substr(0, 8));
    }
    return names;
}

void distinguish_twins(std::vector<imap::ListEntry>& entries,
                       const std::function<std::string(const std::string&)>& canonical_wire) {
    std::vector<ServerMailbox> listed;
    for (const auto& e : entries) {
        ServerMailbox m;
        m.name = e.name;
        m.wire_name = e.raw_name;
        listed.push_back(std::move(m));
    }
    auto names = distinct_names(listed, canonical_wire);
    for (std::size_t i = 0; i < entries.size(); ++i) entries[i].name = std::move(names[i]);
}

}  // namespace imapkeep::sync
