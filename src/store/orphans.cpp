#include <imapkeep/store/orphans.hpp>

namespace imapkeep::store {
namespace {

// "mail/ACCOUNT[/FOLDER]", with the checks every store path gets
// (path_in_folder refuses a bad account or folder before a path is built).
std::string live_folder_dir(MessageStore& messages, const std::string& account,
                            const std::string& folder) {
    const std::string probe =
        messages.path_in_folder("mail/" + account + "/cur/probe", account, folder);
    return probe.substr(0, probe.rfind("/cur/"));
}

}  // namespace

std::size_t remove_orphans(Catalog& catalog, MessageStore& messages, const std::string& account,
                           const std::string& folder) {
    const std::string dir = live_folder_dir(messages, account, folder);
    std::vector<std::string> known = catalog.files_in_dir(dir + "/cur");
    for (auto& file : catalog.files_in_dir(dir + "/new")) known.push_back(std::move(file));
    return messages.remove_unknown_files(account, folder, known);
}

}  // namespace imapkeep::store
