// Leases on fleet accounts (issue 13 "The fleet"): how workers on many
// machines share the accounts of one catalog without a scheduler.
//
// claim(): in one transaction, SELECT the most overdue account that is due
// (next_due_ms <= now) and not leased (no owner, or lease_until_ms < now)
// FOR UPDATE SKIP LOCKED LIMIT 1, then UPDATE it to (owner, now + duration,
// generation + 1). Two claimers never get the same account: the row lock
// makes the second skip it, and one that reads it after the first commit
// sees the lease (PostgreSQL re-checks the WHERE on the locked row).
// An expired lease is claimable by any worker: a worker killed mid-account
// loses it once `duration` passes without a renewal.
//
// A run record left open: a holder's fenced catalog links the run record it
// begins to the account (fleet_accounts.run_id, in the same transaction). A
// worker killed mid-account (kill -9, a crash, a lost machine) never
// finishes that record; the end of its lease (expired, or released by a
// worker that could not write the record) is the proof that its run is over:
// dead, or fenced off from committing anything more. So claim() closes the
// linked record in the claim's transaction if it is still open (finished
// now, status "interrupted", as `imapkeep backup` calls a killed run), and
// unlinks it; a finished record is left as it is. (One whose row a live transaction still locks is left too, rather
// than waited for: a stalled worker's, whose next commit the fence refuses.)
//
// renew() and release() act only on the lease they hold: same owner and same
// generation. A worker whose lease expired and was taken over learns it from
// renew() (false) and must stop writing that account; its release() then
// changes nothing and returns false.
//
// "now" is the database server's clock (server_now_ms): workers' clocks may
// differ, the lease times never depend on them.
// Errors: store::StoreError (the transaction of claim() is rolled back).
#pragma once

#include <chrono>
#include <cstdint>
#include <imapkeep/fleet/fleet_account.hpp>
#include <imapkeep/fleet/fleet_db.hpp>
#include <optional>
#include <string>

namespace imapkeep::fleet {

struct Lease {
    FleetAccount account;  // as it was when claimed (the lease fields included)
    std::string owner;
    std::int64_t generation = 0;
    // The run record of the lease's previous holder that claim() closed as
    // "interrupted" (see above), if any.
    std::optional<std::int64_t> closed_run;
};

// How a run ended, for release().
struct RunOutcome {
    int exit_code = 0;   // the backup's (cli/exit_codes.hpp)
    std::string status;  // ok | partial | failed | interrupted ...
    std::string error;   // one line, "" when none
    // true: due again at once (an interrupted run: the next worker resumes
    // it); false: due `interval_ms` after now.
    bool due_now = false;
};

// A worker's name in lease_owner: "HOST:PID:RANDOM", unique per call.
std::string new_lease_owner();

class Leases {
  public:
    explicit Leases(FleetDb& db) : m_db(db) {}

    std::optional<Lease> claim(const std::string& owner, std::chrono::milliseconds duration);
    // Pushes lease_until_ms to now + duration. False when the lease is no
    // longer ours (taken over after expiring, or the account removed).
    bool renew(const Lease& lease, std::chrono::milliseconds duration);
    // Ends the lease, recording the run and the next due time. False when
    // the lease was no longer ours (nothing changed).
    bool release(const Lease& lease, const RunOutcome& outcome);

  private:
    FleetDb& m_db;
};

}  // namespace imapkeep::fleet
