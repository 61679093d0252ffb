#include <imapkeep/store/catalog_windows.hpp>

namespace imapkeep::store {

namespace {
constexpr std::uint32_t kMaxUid = 0xFFFFFFFFu;
}

void for_each_live_window(Catalog& catalog, Id mailbox_id, std::size_t window,
                          const std::function<void(std::vector<MessageRecord>&)>& visit) {
    if (window == 0) throw StoreError("for_each_live_window: a window holds at least one row");
    for (std::uint32_t uidvalidity : catalog.live_uidvalidities(mailbox_id)) {
        std::uint32_t from = 1;
        while (from != 0) {
            UidSet above;
            above.add_range(Uid(from), Uid(kMaxUid));
            auto rows = catalog.messages_in(mailbox_id, uidvalidity, above, window);
            if (rows.empty()) break;
            from = rows.back().uid == kMaxUid ? 0 : rows.back().uid + 1;
            visit(rows);
        }
    }
}

}  // namespace imapkeep::store
