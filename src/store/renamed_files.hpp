// Case 3a: mail readers (mutt, notmuch, Dovecot's own clients) rename a message
// file when its flags change: "x,U=5:2," -> "x,U=5:2,S", and move it between
// new/ and cur/. The file is intact; only its name differs from the catalog's.
// Pure name matching on directory listings, so every rule is table-tested.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace imapkeep::store {

struct FolderListing {
    std::string folder_dir;  // TREE/ACCOUNT[/FOLDER], store-relative
    std::vector<std::string> cur;
    std::vector<std::string> new_;
};

// For each of `known` (store-relative paths) that lies in `listing`'s folder,
// is not listed under its own name, and is listed under the same base name
// (the part before ":2,") in cur/ or new/: (known path, path on disk). A name
// in cur/ wins over one in new/. Paths of other folders are skipped.
std::vector<std::pair<std::string, std::string>> match_renamed(
    const FolderListing& listing, const std::vector<std::string>& known);

}  // namespace imapkeep::store
