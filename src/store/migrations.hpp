// Schema migrations: schema/NNNN_name.sql, compiled into the binary by CMake
// (store_schema_migrations.cpp) and applied in order at open. The version is
// PRAGMA user_version = the NNNN of the last applied file.
#pragma once

#include <string>
#include <vector>

#include "store/sqlite_db.hpp"

namespace imapkeep::store {

struct Migration {
    std::string name;  // file name, "0001_init.sql"
    std::string sql;
};

// Generated at build time from schema/*.sql, sorted by name.
const std::vector<Migration>& compiled_migrations();

// The version a migration file declares: its leading digits ("0001_init.sql" -> 1).
// Throws StoreError when the name has none.
int migration_version(const std::string& name);

// Checks the list: versions 1, 2, 3... without gaps or duplicates. Throws StoreError.
void check_migrations(const std::vector<Migration>& migrations);

// Applies every migration newer than the database's user_version, each in its
// own IMMEDIATE transaction (re-reading the version inside it, so two
// connections opening a fresh catalog at once apply each step once). Throws
// StoreError when the database is newer than the last migration.
void apply_migrations(SqliteDb& db, const std::vector<Migration>& migrations);

}  // namespace imapkeep::store
