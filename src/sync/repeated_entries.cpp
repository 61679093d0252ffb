#include "sync/repeated_entries.hpp"

#include <string>
#include <unordered_map>

namespace imapkeep::sync {

void drop_repeated_entries(std::vector<imap::ListEntry>& entries) {
    std::unordered_map<std::string, std::size_t> kept;  // raw_name -> index in `out`
    std::vector<imap::ListEntry> out;
    out.reserve(entries.size());
    for (auto& e : entries) {
        auto found = kept.find(e.raw_name);
        if (found == kept.end()) {
            kept.emplace(e.raw_name, out.size());
            out.push_back(std::move(e));
        } else if (!out[found->second].selectable() && e.selectable()) {
            auto& place = out[found->second];
            place.attributes = std::move(e.attributes);
            place.delimiter = std::move(e.delimiter);
        }
    }
    entries = std::move(out);
}

}  // namespace imapkeep::sync
