// The planning half of a UIDVALIDITY re-match (DESIGN.md "Sync" step 5): the
// catalog's keys of the mailbox, the server's listing under the new
// UIDVALIDITY, then the plan. Apart from the IMAP session and the durable
// step, so that what it holds per message can be measured without a server.
// It holds a fixed number of bytes a message (RematchKeys: a 16-byte digest
// and an id on each side; the flags interned), never the catalog's rows.
#pragma once

#include <cstdint>
#include <imapkeep/imap/fetch_items.hpp>
#include <imapkeep/imap/types.hpp>
#include <imapkeep/store/catalog.hpp>
#include <imapkeep/sync/plan.hpp>
#include <string>
#include <vector>

#include "sync/fetched_items.hpp"
#include "sync/flag_sets.hpp"

namespace imapkeep::sync {

class RematchPlanner {
  public:
    // Reads the keys of the mailbox's live messages (streamed).
    RematchPlanner(store::Catalog& catalog, store::Id mailbox_id);
    RematchPlanner(const RematchPlanner&) = delete;  // m_items calls back into this one
    RematchPlanner& operator=(const RematchPlanner&) = delete;

    // What the listing asks the server for, every UID of the mailbox.
    static imap::FetchItems listing_items();
    // One FETCH response of the listing; one without a UID is ignored. A
    // server may split a message's items over responses that follow each
    // other (fetched_items.hpp): one without every item of the key waits
    // for the next one; a response of another UID, or plan(), keys it as it
    // stands. One waits at a time, so memory stays a fixed amount a message.
    void add(const imap::FetchData& d);

    // Call once, after the listing.
    Rematch plan();
    // After plan(): the flags (normalised) the listing gave a matched `uid`;
    // empty when it gave none.
    const std::vector<std::string>& flags_of(std::uint32_t uid) const;

  private:
    void key(const imap::FetchData& d);

    RematchKeys m_keys;
    FlagSets m_flags;
    ConsecutiveItems m_items;  // after the members key() uses
};

}  // namespace imapkeep::sync
