// Integrity check of an account's message files against the catalog: every
// message row (live and attic) must name a file whose size and SHA-256 match.
#pragma once

#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/message_store.hpp>
#include <string>
#include <vector>

namespace imapkeep::store {

struct VerifyProblem {
    std::string file;  // path relative to the store root, as in the catalog
    std::string kind;  // "missing" | "size" | "corrupt" (same size, other hash)
    Id message_id = 0;
};

// Re-hashes every file of the account, including deleted mailboxes and expunged
// messages. Reads files in chunks (flat memory). Throws StoreError only when the
// catalog cannot be read; unreadable files are reported as "missing".
std::vector<VerifyProblem> verify_files(Catalog& catalog, MessageStore& messages, Id account_id);

}  // namespace imapkeep::store
