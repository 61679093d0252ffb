// The order in which a run's workers take the mailboxes that have work: the
// most work first. The first mailbox goes to the connection that listed, which
// is open already, while the other workers still connect and log in (about
// 35 ms on loopback Dovecot); the largest mailbox there shortens the run's
// critical path. Largest first also balances the workers' tails (LPT
// scheduling): a large mailbox taken last would run alone at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace imapkeep::sync {

// What the server's status says about one mailbox's work; both 0 when the
// server gave no status (the mailbox keeps its place among those).
struct MailboxWork {
    std::uint64_t new_messages = 0;  // to download (estimate_new)
    std::uint64_t messages = 0;      // MESSAGES: the known ones to compare
};

// Indices into `work`, the most work first; equal work keeps the listed order.
std::vector<std::size_t> most_work_first(const std::vector<MailboxWork>& work);

}  // namespace imapkeep::sync
