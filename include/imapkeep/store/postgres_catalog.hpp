// The catalog in PostgreSQL (issue 13): the same contract as the SQLite one
// (catalog.hpp), for many machines sharing one catalog. Migrations from
// schema/postgres/*.sql (the twins of schema/*.sql) are compiled in and
// applied at open, in one transaction, versioned in the schema_version table.
//
// One catalog is one PostgreSQL schema: its tables, its schema_version, its
// writer lock. Several catalogs may share a database.
//
// Connection settings (per session): synchronous_commit=on whatever the
// server's default, because invariant 1 needs a commit to be durable when
// commit() returns (the message files it names are already fsynced);
// lock_timeout=10 s, the wait SQLite's busy_timeout allows.
//
// Transactions: begin()/commit()/rollback() nest as catalog.hpp says (the
// outermost is BEGIN/COMMIT, inner ones SAVEPOINTs). A write that a
// constraint refuses (a second live UID, an unknown mailbox...) leaves the
// transaction usable, as in SQLite: such writes run in a savepoint of their
// own when a transaction is open (PostgreSQL would otherwise refuse every
// later statement of the transaction). Other failures (a lost connection, a
// timeout) leave it aborted: commit() then throws, as it does whenever the
// server answers COMMIT with ROLLBACK.
//
// Writers: with serialize_writers (the default), the outermost begin() takes a
// transaction-level advisory lock of the catalog, so write transactions take
// turns as SQLite's BEGIN IMMEDIATE makes them, across every process and
// machine; it waits up to lock_timeout, then throws StoreError. A write
// outside a transaction is one atomic statement and does not take the lock
// (SQLite would make it wait): an open transaction's later statements see it,
// under READ COMMITTED.
// Without serialize_writers, transactions run side by side; a method that
// reads a row to decide a write (update_flags, set_gmail_message) locks that
// row first (SELECT ... FOR UPDATE), so no method loses a change, but a
// caller's own read-then-write across methods is then its own business (one
// worker per account: issue 13's leases). Workers that hold a transaction
// open while they upload or fsync should run this way: the lock would make
// every worker of the fleet wait for those.
//
// Errors: StoreError with the SQLSTATE, e.g. "[23505]" for a unique violation.
// A lost connection fails the call that meets it (its statement may or may
// not have been done) and is opened again by the next call outside a
// transaction; inside one, every call until rollback() fails, and so does
// commit().
//
// Write fence (issue 13's fleet): with PostgresCatalogOptions::fence set, the
// catalog writes only while a worker's lease on an account is still its own.
// Every outermost COMMIT is preceded, in the same transaction, by
//   SELECT 1 FROM fleet_accounts WHERE name = account AND lease_owner = owner
//   AND lease_generation = generation FOR SHARE
// and a write outside a transaction runs in a transaction of its own, fenced
// the same way. FOR SHARE keeps the row until our COMMIT, so a claim of the
// account (fleet/lease.hpp: FOR UPDATE SKIP LOCKED, then UPDATE) either came
// before the check, which then finds no row, or after our COMMIT: a stalled
// worker (SIGSTOP, a network stall) whose lease expired and was taken over
// commits nothing beside the new holder. A refused COMMIT rolls the whole
// transaction back, calls fence->on_lost (once per catalog) and throws
// LeaseLost; so does every later write. Message files written for a refused
// transaction have no row: orphans, as after a kill (store/orphans.cpp).
//
// A fenced begin_run() also links its record to the account
// (fleet_accounts.run_id) in the same commit, so that the account's next
// claimer closes it if the worker dies before finishing it (fleet/lease.hpp).
//
// Not thread-safe: one catalog (one connection) per thread, as with SQLite.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <imapkeep/store/catalog.hpp>
#include <memory>
#include <optional>
#include <string>

namespace imapkeep::store {

// A write the fence refused: the lease is no longer the caller's. Nothing of
// the transaction was committed.
class LeaseLost : public NotCommitted {
  public:
    using NotCommitted::NotCommitted;
};

// The lease a catalog's writes are fenced by (fleet/lease.hpp's Lease).
struct PostgresWriteFence {
    std::string account;  // fleet_accounts.name
    std::string owner;    // lease_owner
    std::int64_t generation = 0;
    // Called when the fence first refuses a commit, on the thread of the
    // catalog (several catalogs may share one callback: make it thread-safe),
    // e.g. to stop the backup. May be empty.
    std::function<void()> on_lost;
    // The server ends a session of this catalog that stays idle inside a
    // transaction longer than this (idle_in_transaction_session_timeout),
    // which rolls it back and frees its row locks: a worker frozen inside a
    // transaction (SIGSTOP, a stall) then does not hold up the account's new
    // holder past the lease (whose claim would otherwise wait on those locks
    // until lock_timeout). The lease duration; 0: no limit. The frozen
    // worker's next call fails (StoreError: the connection is gone).
    std::chrono::milliseconds idle_in_transaction{0};
};

struct PostgresCatalogOptions {
    // A libpq connection string or URI ("host=db user=imapkeep",
    // "postgresql://imapkeep@db/mail"); "" uses the PG* environment variables
    // (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSFILE...) and libpq's defaults.
    std::string conninfo;
    // The schema that holds this catalog; created at open when missing.
    std::string schema = "imapkeep";
    bool serialize_writers = true;
    // A dry run's catalog: the whole session is one REPEATABLE READ
    // transaction that is never committed. It reads the catalog as it was at
    // open; what is written to it (begin/commit nest as savepoints inside)
    // is gone at close, migrations and a new schema included. Writers are
    // not serialized, and a lost connection is not reopened (StoreError).
    // A catalog that needs a migration keeps the migration lock until close.
    bool snapshot = false;
    // Fences every write by a fleet lease (see "Write fence" above); unset
    // for a catalog that is not a worker's. Ignored by a snapshot.
    std::optional<PostgresWriteFence> fence;
};

// Connects, creates the schema if needed, applies pending migrations. Throws
// StoreError (no connection, no rights, a schema newer than this build knows).
std::unique_ptr<Catalog> open_postgres_catalog(const PostgresCatalogOptions& options);

// The round trips `catalog` made to its server so far (each prepare, execute
// and simple query; connecting counts one), 0 for a catalog of another kind:
// what tests and benchmarks count instead of timing on shared cores.
std::uint64_t postgres_round_trips(const Catalog& catalog);

// "PostgreSQL HOST/DBNAME, schema SCHEMA" for messages, from libpq's own
// parse of the connection string: a password in it is never part of the text.
std::string describe_postgres_catalog(const PostgresCatalogOptions& options);

// The schema version this build writes; equal to catalog_schema_version(),
// since the two lists of migrations go step by step.
int postgres_catalog_schema_version();

}  // namespace imapkeep::store
