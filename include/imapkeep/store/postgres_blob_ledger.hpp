// The BlobLedger (blob_ledger.hpp) of a PostgreSQL catalog: gc's marks and
// the writers' claims, on a connection of its own (so upload threads can
// claim while the catalog's connection is in a transaction).
//
// Connection settings: the catalog's schema, synchronous_commit=on (a claim
// is durable when it returns), lock_timeout=60 s: a claim waits at most that
// long for a sweep holding its key (a sweep holds it for one S3 DELETE, whose
// own stall timeout is 60 s), then throws StoreError;
// idle_in_transaction_session_timeout=0, whatever the server's default: a
// sweep waits for S3 inside its transaction, and a session ended there would
// free the mark's lock before the DELETE is sent.
//
// Threads: every call takes the ledger's mutex, so claim() may come from
// several threads; they take turns on the one connection.
// Errors: StoreError (no connection, no rights, a schema newer than this
// build). A lost connection is opened again by the next call outside a sweep.
#pragma once

#include <imapkeep/store/blob_ledger.hpp>
#include <imapkeep/store/postgres_catalog.hpp>
#include <memory>

namespace imapkeep::store {

// Connects and migrates the schema as open_postgres_catalog does.
// options.snapshot and options.fence are ignored.
std::unique_ptr<BlobLedger> open_postgres_blob_ledger(const PostgresCatalogOptions& options);

}  // namespace imapkeep::store
