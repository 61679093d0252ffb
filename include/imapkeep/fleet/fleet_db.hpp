// The fleet's connection to PostgreSQL (issue 13): the table fleet_accounts
// (schema/postgres/0010_fleet_accounts.sql) lives in a catalog's schema, next
// to the catalog it feeds. Opening one migrates that schema as opening the
// catalog does (the same migrations, under the same advisory lock), so a
// worker or `imapkeep accounts` may come first.
//
// Session: search_path = the schema, synchronous_commit = on (a released
// lease or a new account must survive a crash once the call returns),
// lock_timeout = 10 s.
//
// Errors: store::StoreError (no connection, no rights, a schema newer than
// this build), with the SQLSTATE as the catalog gives it. A lost connection
// fails the call that meets it and is opened again by the next one.
//
// Not thread-safe: one FleetDb per thread (the heartbeat has its own).
#pragma once

#include <imapkeep/store/catalog.hpp>
#include <memory>
#include <string>

namespace imapkeep::store {
class PgConnection;
}

namespace imapkeep::fleet {

struct FleetDbOptions {
    // A libpq connection string or URI; "" = the PG* environment variables.
    std::string conninfo;
    // The catalog's schema ([store] catalog_schema).
    std::string schema = "imapkeep";
};

class FleetDb {
  public:
    explicit FleetDb(const FleetDbOptions& options);
    ~FleetDb();
    FleetDb(const FleetDb&) = delete;
    FleetDb& operator=(const FleetDb&) = delete;

    const FleetDbOptions& options() const { return m_options; }
    // For src/fleet/ only (the type is internal to the store layer).
    store::PgConnection& connection() { return *m_db; }

  private:
    FleetDbOptions m_options;
    std::unique_ptr<store::PgConnection> m_db;
};

// Milliseconds since the epoch on the database server's clock: the one clock
// every worker of a fleet shares, whatever their own say.
std::int64_t server_now_ms(FleetDb& db);

}  // namespace imapkeep::fleet
