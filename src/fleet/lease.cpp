#include <unistd.h>

#include <imapkeep/fleet/lease.hpp>
#include <random>

#include "fleet/fleet_row.hpp"
#include "store/postgres/pg_connection.hpp"

namespace imapkeep::fleet {

namespace {

const std::string kNowMs = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

// The most overdue account nobody holds; locked rows are some other
// claimer's, in flight: skipped, not waited for.
const std::string kPickDue =
    "SELECT name, run_id FROM fleet_accounts WHERE next_due_ms <= " + kNowMs +
    " AND (lease_owner IS NULL OR lease_until_ms IS NULL OR lease_until_ms < " + kNowMs +
    ") ORDER BY next_due_ms, name LIMIT 1 FOR UPDATE SKIP LOCKED";

const std::string kTakeLease =
    "UPDATE fleet_accounts SET lease_owner = $2::text, lease_until_ms = " + kNowMs +
    " + $3::bigint, lease_generation = lease_generation + 1, run_id = NULL, last_started_ms = " + kNowMs +
    " WHERE name = $1::text RETURNING " + kFleetColumns;

// The run record a dead holder left open: finished now, "interrupted"
// (lease.hpp). SKIP LOCKED: a row a live transaction holds is a stalled
// worker's, which the fence stops; waiting for it could deadlock with that
// worker's fence check on the account's row, which this claim has locked.
const std::string kCloseStaleRun =
    "UPDATE run SET finished_at = EXTRACT(EPOCH FROM clock_timestamp())::BIGINT,"
    " status = 'interrupted' WHERE id = (SELECT id FROM run WHERE id = $1::bigint"
    " AND finished_at IS NULL FOR UPDATE SKIP LOCKED) RETURNING id";

void rollback_quietly(store::PgConnection& db) {
    try {
        db.exec("ROLLBACK");
    } catch (const store::StoreError&) {
        // Already ended, or the connection is gone: nothing is held either way.
    }
}

}  // namespace

std::string new_lease_owner() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    std::random_device random;
    return std::string(host) + ":" + std::to_string(::getpid()) + ":" + std::to_string(random());
}

std::optional<Lease> Leases::claim(const std::string& owner, std::chrono::milliseconds duration) {
    auto& db = m_db.connection();
    db.allow_reconnect(true);
    db.exec("BEGIN");
    db.allow_reconnect(false);
    try {
        auto due = db.run(kPickDue);
        if (due.rows() == 0) {
            db.exec("COMMIT");
            db.allow_reconnect(true);
            return std::nullopt;
        }
        std::optional<std::int64_t> closed;
        if (auto stale = due.optional_int64(0, 1))
            if (db.query(kCloseStaleRun, *stale).rows() == 1) closed = stale;
        auto taken = db.query(kTakeLease, due.text(0, 0), owner,
                              static_cast<std::int64_t>(duration.count()));
        Lease lease{read_fleet_row(taken, 0), owner, 0, closed};
        lease.generation = lease.account.lease_generation;
        if (db.exec("COMMIT").status() != "COMMIT")
            throw store::StoreError("fleet: the claim of " + lease.account.name +
                                    " was rolled back");
        db.allow_reconnect(true);
        return lease;
    } catch (...) {
        rollback_quietly(db);
        db.allow_reconnect(true);
        throw;
    }
}

bool Leases::renew(const Lease& lease, std::chrono::milliseconds duration) {
    return m_db.connection()
               .query("UPDATE fleet_accounts SET lease_until_ms = " + kNowMs +
                          " + $3::bigint WHERE name = $1::text AND lease_owner = $2::text"
                          " AND lease_generation = $4::bigint",
                      lease.account.name, lease.owner, static_cast<std::int64_t>(duration.count()),
                      lease.generation)
               .affected() == 1;
}

bool Leases::release(const Lease& lease, const RunOutcome& outcome) {
    return m_db.connection()
               .query(
                   "UPDATE fleet_accounts SET lease_owner = NULL, lease_until_ms = NULL,"
                   " last_finished_ms = " +
                       kNowMs +
                       ", last_exit_code = $4::int, last_status = $5::text, last_error = $6::text,"
                       " next_due_ms = CASE WHEN $7::boolean THEN " +
                       kNowMs + " ELSE " + kNowMs +
                       " + interval_ms END"
                       " WHERE name = $1::text AND lease_owner = $2::text"
                       " AND lease_generation = $3::bigint",
                   lease.account.name, lease.owner, lease.generation,
                   std::int64_t{outcome.exit_code}, outcome.status, outcome.error,
                   store::PgBool{outcome.due_now})
               .affected() == 1;
}

}  // namespace imapkeep::fleet
