#include "store/renamed_files.hpp"

#include <unordered_map>
#include <unordered_set>

#include "store/maildir_names.hpp"

namespace imapkeep::store {

std::vector<std::pair<std::string, std::string>> match_renamed(
    const FolderListing& listing, const std::vector<std::string>& known) {
    std::unordered_set<std::string> present;
    std::unordered_map<std::string, std::string> by_base;  // base name -> relative path
    // new/ first, so cur/ overwrites it.
    for (const auto* names : {&listing.new_, &listing.cur}) {
        const std::string sub = names == &listing.cur ? "/cur/" : "/new/";
        for (const auto& name : *names) {
            std::string relative = listing.folder_dir + sub + name;
            present.insert(relative);
            by_base[std::string(base_name(name))] = std::move(relative);
        }
    }
    std::vector<std::pair<std::string, std::string>> renamed;
    for (const auto& file : known) {
        if (present.count(file)) continue;
        const auto slash = file.rfind('/');
        if (slash == std::string::npos || slash < 4) continue;
        const std::string_view dir = std::string_view(file).substr(0, slash);
        const std::string_view sub = dir.substr(dir.size() - 4);
        if (dir.substr(0, dir.size() - 4) != listing.folder_dir || (sub != "/cur" && sub != "/new"))
            continue;
        auto it = by_base.find(std::string(base_name(std::string_view(file).substr(slash + 1))));
        if (it != by_base.end()) renamed.emplace_back(file, it->second);
    }
    return renamed;
}

}  // namespace imapkeep::store
