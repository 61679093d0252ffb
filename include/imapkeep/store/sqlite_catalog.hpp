// The SQLite catalog at STORE/catalog.sqlite. Migrations from schema/*.sql are
// compiled in and applied at open, versioned with PRAGMA user_version.
//
// Connection settings: journal_mode=WAL, foreign_keys=ON, a 10 s wait for a
// locked catalog. Every commit is durable before it returns, as with
// synchronous=FULL: in WAL mode NORMAL alone may lose the last commits on
// power failure, while the message files they describe are already fsynced
// in cur/, so the next run would fetch them again and leave the first copies
// as orphans. The sync is a group commit (src/store/wal_group_sync.hpp): the
// connections of one process that commit together share one fsync of the
// log, made after the writer's lock is released.
//
// Closing leaves the write-ahead log (catalog.sqlite-wal, -shm) in place, not
// checkpointed: it is part of the catalog, as SQLite reads both. That spares
// every run a checkpoint's two syncs and the log's re-creation (a no-change run
// syncs once). Copy the store directory whole, never catalog.sqlite alone.
// Checkpoints run on a thread of their own, one connection per process
// (src/store/wal_checkpointer.hpp): for the pages earlier runs left, at the
// first commit, and for every 4,000 pages the log grows.
#pragma once

#include <imapkeep/store/catalog.hpp>
#include <memory>
#include <string>

namespace imapkeep::store {

// Opens (creating if needed) the catalog file, enables WAL and foreign keys,
// applies pending migrations (each in its own transaction). Throws StoreError,
// also when the file's schema is newer than this build knows.
std::unique_ptr<Catalog> open_sqlite_catalog(const std::string& path);

// An in-memory copy of the catalog at `path`, or a new empty catalog when
// there is no file: for a dry run, which must write nothing anywhere. The file
// is opened read-only (a consistent copy even while a backup writes it) and
// never changed; whatever is written to the copy is gone when it closes.
// Throws StoreError (unreadable, not a catalog, schema newer than this build).
std::unique_ptr<Catalog> open_sqlite_catalog_snapshot(const std::string& path);

// The schema version this build writes.
int catalog_schema_version();

// The schema version of the catalog file at `path`, its log included (the
// file's own header may be older until a checkpoint), read without changing
// any file of it. Throws StoreError (unreadable, not a catalog).
int sqlite_catalog_file_version(const std::string& path);

}  // namespace imapkeep::store
