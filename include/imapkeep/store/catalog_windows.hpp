// Reading a whole mailbox's catalog rows in bounded memory (issue 10: memory
// follows the window and the change, not the mailbox). Uses only
// Catalog::live_uidvalidities and Catalog::messages_in; throws what they throw.
#pragma once

#include <functional>
#include <imapkeep/store/catalog.hpp>
#include <vector>

namespace imapkeep::store {

// Rows per window where the sync layer pages through a mailbox.
constexpr std::size_t kCatalogWindow = 5000;

// Calls `visit` with every live row of the mailbox, in windows of at most
// `window` rows, ordered by (uidvalidity, uid). `visit` may move rows out of
// its window; the catalog must not change while this runs.
void for_each_live_window(Catalog& catalog, Id mailbox_id, std::size_t window,
                          const std::function<void(std::vector<MessageRecord>&)>& visit);

}  // namespace imapkeep::store
