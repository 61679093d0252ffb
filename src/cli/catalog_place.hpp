// Where a store's catalog lives ([store] catalog in the config): the SQLite
// file STORE/catalog.sqlite (the default), or a schema in PostgreSQL that
// several machines can share (issue 13; store/postgres_catalog.hpp). The
// message files stay under store.path either way.
#pragma once

#include <functional>
#include <imapkeep/store/blob_ledger.hpp>
#include <imapkeep/store/catalog.hpp>
#include <memory>
#include <string>

#include "cli/config.hpp"

namespace imapkeep::cli {

using CatalogOpener = std::function<std::unique_ptr<store::Catalog>()>;

bool catalog_in_postgres(const Config& config);

// STORE/catalog.sqlite, whichever the config says (doctor reads the file
// itself).
std::string sqlite_catalog_path(const Config& config);

// For messages: the SQLite file's path, or "PostgreSQL host/db, schema S"
// (never a password, whatever the connection string holds).
std::string catalog_name(const Config& config);

// False only for an SQLite file not made yet: status and verify then say "no
// backup yet" without creating it. A PostgreSQL schema counts as there (it
// is made, empty, at the first open).
bool catalog_exists(const Config& config);

// Opens one connection to the catalog, migrating it to this build's schema.
// SQLite: check_catalog_file first (ConfigError for a file that is not a
// catalog or a newer one). Errors of the backend: store::StoreError.
std::unique_ptr<store::Catalog> open_catalog(const Config& config);

// open_catalog, as a function a backup's workers call for their own connections.
CatalogOpener catalog_opener(const Config& config);

// A dry run's catalog: what it writes never reaches the catalog, which it
// reads as it was at open (SQLite: an in-memory copy of the file; PostgreSQL:
// one transaction that is rolled back, PostgresCatalogOptions::snapshot).
// Nothing is created, not even a missing file or schema. Errors as
// open_catalog's.
std::unique_ptr<store::Catalog> open_catalog_snapshot(const Config& config);

// The catalog's gc marks and claims (store/blob_ledger.hpp) on a connection
// of their own: for `imapkeep gc`, and for every S3 store that writes.
// ConfigError without a PostgreSQL catalog; store::StoreError from it.
std::shared_ptr<store::BlobLedger> open_blob_ledger(const Config& config);

}  // namespace imapkeep::cli
