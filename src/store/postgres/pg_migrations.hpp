// The PostgreSQL catalog's migrations: schema/postgres/NNNN_name.sql, one twin
// per schema/NNNN_name.sql (same number, same name), compiled in by CMake
// (store_postgres_migrations.cpp). The applied versions are rows of the
// schema_version table, one per step, in the catalog's own schema.
#pragma once

#include <string>
#include <vector>

#include "store/migrations.hpp"
#include "store/postgres/pg_connection.hpp"

namespace imapkeep::store {

// Generated at build time from schema/postgres/*.sql, sorted by name.
const std::vector<Migration>& compiled_postgres_migrations();

// The advisory-lock key of a catalog's schema: every connection to that
// catalog, in any process, computes the same one (FNV-1a of `what` and the name).
std::int64_t postgres_lock_key(const std::string& what, const std::string& schema);

// Creates the schema if needed and applies every migration newer than its
// schema_version, all in one transaction, under a transaction-level advisory
// lock of the schema: two processes opening a fresh catalog at once apply each
// step once. Throws StoreError (and writes nothing) when the catalog's version
// is newer than the last migration.
void apply_postgres_migrations(PgConnection& db, const std::string& schema,
                               const std::vector<Migration>& migrations);

// The same inside the caller's transaction (a dry run's, which is never
// committed): the migration lock is then held until that transaction ends, and
// only when a migration is due.
void apply_postgres_migrations_in_transaction(PgConnection& db, const std::string& schema,
                                             const std::vector<Migration>& migrations);

// The version the catalog in `schema` is at (0 when it has none).
int postgres_schema_version(PgConnection& db, const std::string& schema);

}  // namespace imapkeep::store
