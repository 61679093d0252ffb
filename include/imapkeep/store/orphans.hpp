// Orphan cleanup (invariant 2): a run killed between renaming files into cur/
// and committing their catalog rows leaves files no row points to.
#pragma once

#include <cstddef>
#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/message_store.hpp>
#include <string>

namespace imapkeep::store {

// Deletes the message files in the live folder's cur/ and new/ that no catalog
// row references: rows of any mailbox or account, live or deleted, message
// live or expunged. A file counts as referenced when a row names it under any
// flags or U= (the unique part matches), so a rename a killed run did not
// catalog, or a mail reader's flag change, keeps it. Only for a folder no other
// thread is writing into (the caller's mailbox worker owns it). Returns how
// many files were removed. Throws StoreError.
// It lists the folder and reads every file name the catalog has there, so a
// caller runs it only while Catalog::files_pending() says a writer may have
// left such files (sync: MailboxSync::sweep_if_pending), not on every run.
std::size_t remove_orphans(Catalog& catalog, MessageStore& messages, const std::string& account,
                           const std::string& folder);

}  // namespace imapkeep::store
