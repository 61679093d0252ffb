// The SQLite catalog at STORE/catalog.sqlite. Migrations from schema/*.sql are
// compiled in and applied at open, versioned with PRAGMA user_version.
#pragma once

#include <imapkeep/store/catalog.hpp>

#include <memory>

namespace imapkeep::store {

// Opens (creating if needed) the catalog file, enables WAL and foreign keys,
// applies pending migrations. Throws StoreError.
std::unique_ptr<Catalog> open_sqlite_catalog(const std::string& path);

// The schema version this build writes.
int catalog_schema_version();

}  // namespace imapkeep::store
