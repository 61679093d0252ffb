// One Maildir folder per live mailbox, enforced by the catalog: the 0002
// migration puts a unique index on (account_id, folder) among live mailboxes,
// and the sync layer asks allocate_folder() for the folder of every mailbox
// record it creates or renames.
#pragma once

#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/message_store.hpp>
#include <string>

namespace imapkeep::store {

// The folder for mailbox `name` of the account: messages.folder_for(name,
// delimiter), unless another live mailbox of the account (any but `self`, the
// record being renamed; 0 for a new one) already has it. Then the first free
// variant "<base>%~2", "<base>%~3", ..., with <base> cut so the result stays
// within 255 bytes and ".INBOX" standing in for the root (""). folder_for never
// writes "%~" ("%" is always followed by two hex digits or ends a level), so a
// variant never takes the plain folder of another name. Deterministic for a
// given catalog. Reads the catalog only: call it inside the transaction that
// saves the record. Throws StoreError.
std::string allocate_folder(Catalog& catalog, MessageStore& messages, Id account_id,
                            const std::string& name, const std::string& delimiter, Id self = 0);

// The variant number `n` (>= 2) of `base`, as described above.
std::string folder_variant(const std::string& base, unsigned n);

}  // namespace imapkeep::store
