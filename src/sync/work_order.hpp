// The order in which a run's workers take the mailboxes that have work, and
// how many connections that work is worth (issue 10).
//
// Order: the most work first. The first mailbox goes to the connection that
// listed, which is open already, while the other workers still connect and
// log in; the largest mailbox there shortens the run's critical path. Largest
// first also balances the workers' tails (LPT scheduling): a large mailbox
// taken last would run alone at the end.
//
// Count: a connection beyond the first costs the run before it does any work
// (Dovecot on loopback: about 25 ms until imap-login greets, 20-25 ms for
// LOGIN and the post-login process), and the CPU it takes on either side comes
// out of the work in hand. A 1%-changed run of three mailboxes took 0.25 s on
// one connection, 0.27 s on two and 0.33 s on three.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace imapkeep::sync {

// What the server's status says about one mailbox's work; all 0 when the
// server gave no status (the mailbox keeps its place among those).
struct MailboxWork {
    std::uint64_t new_messages = 0;  // to download (estimate_new)
    std::uint64_t messages = 0;      // MESSAGES: the known ones to compare
    // Mod-sequence steps since the stored mark beyond the new messages (RFC
    // 7162: a flag change or an expunge takes at least one): about the flag
    // changes and expunges to apply. 0 when either mark is unknown.
    std::uint64_t changes = 0;
    bool estimated = false;  // the server gave a status to go by
};

// What a mailbox's work costs, roughly, to choose the connection count. The
// figures are loopback Dovecot's on 2 cores (issue 10's 1%-changed and cold
// profiles); over a network every one of them grows with the round trip, so
// their ratios, which decide, stay near.
struct WorkCosts {
    std::chrono::microseconds connection{50'000};  // connect, greeting, LOGIN
    std::chrono::microseconds mailbox{5'000};      // EXAMINE, UNSELECT, a commit
    std::chrono::microseconds new_message{300};    // FETCH, file, a batch's fsync share
    std::chrono::microseconds change{300};         // a flag rename or an expunge's move
    // Each known message's line when its flags or UIDs are listed (every
    // path but QRESYNC).
    std::chrono::microseconds listed_message{3};
};

// Indices into `work`, the most work first by the estimate WorkCosts gives
// (`lists_known` as for plan_connections); equal work keeps the listed order.
std::vector<std::size_t> most_work_first(const std::vector<MailboxWork>& work, bool lists_known,
                                         const WorkCosts& costs = {});

// How many connections a run opens for `work`, 1 to `at_most` (at most one
// per mailbox).
struct ConnectionPlan {
    // Opened at once: the first is open already and takes the largest
    // mailbox; one more for each two connections' cost of the estimated rest,
    // so a connection opens only for work that outlasts its own start.
    int at_once = 1;
    // The others stand by. An estimate can be far too low: a server's
    // mod-sequence may move once for a STORE on thousands of messages, and the
    // plain path has none. From `standby_after` (twice the estimated work, at
    // least twice a connection's cost) on, a standby opens while the untaken
    // mailboxes' estimate, at the pace the run has shown (its time over the
    // estimate of the mailboxes taken), is worth twice a connection's cost.
    int standby = 0;
    std::chrono::microseconds standby_after{};
    std::vector<std::chrono::microseconds> estimates;  // each mailbox's, in `work`'s order
};

// Whether a standby connection opens now: `elapsed` since the workers began
// over `taken` (the estimate of the mailboxes taken) is the run's pace; the
// `untaken` estimate at that pace must come to twice `connection`.
bool standby_worth_opening(std::chrono::microseconds elapsed, std::chrono::microseconds taken,
                           std::chrono::microseconds untaken, std::chrono::microseconds connection);

// `lists_known`: the path lists every known message (not QRESYNC). A mailbox
// without an estimate (a server without LIST-STATUS: Microsoft 365) or a
// zero connection cost opens every connection at once.
ConnectionPlan plan_connections(const std::vector<MailboxWork>& work, bool lists_known, int at_most,
                                const WorkCosts& costs = {});

}  // namespace imapkeep::sync
