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
    // "missing" | "unreadable" (the store could not read it: an I/O or
    // network error, which says nothing about whether it is there; `detail`
    // says why) | "size" | "corrupt" (same size, other hash) | "renamed" (intact,
    // but a mail reader renamed it: other ":2," letters, or cur/ <-> new/),
    // and for Gmail's label folders "link missing" | "link not the copy" (a
    // file there that is not a hard link to the message's file) | "name
    // shared" (the row's file has the unique name of another message's label
    // link in its folder, which a replayed step could take for it: a store
    // converted by the older Gmail adoption; actual_file is the link).
    std::string kind;
    Id message_id = 0;
    std::string
        actual_file;     // where the file is now when renamed, the link when name shared, else ""
    std::string detail;  // "unreadable": the store's error
};

// Re-hashes every file of the account, including deleted mailboxes and expunged
// messages. Reads files in chunks (flat memory). Throws StoreError only when the
// catalog cannot be read; a message the store says is not there is
// "missing", one it fails to read "unreadable". A file
// not under its cataloged name is looked up once per folder (one listing) by
// its name before ":2,"; found intact it is "renamed", not a loss (the next
// backup puts the server's flags back), otherwise "size"/"corrupt" with
// actual_file set.
std::vector<VerifyProblem> verify_files(Catalog& catalog, MessageStore& messages, Id account_id);

}  // namespace imapkeep::store
