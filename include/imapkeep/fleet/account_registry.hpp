// The fleet's list of accounts (`imapkeep accounts add|list|remove|import`):
// rows of fleet_accounts in the catalog's PostgreSQL schema (fleet_db.hpp).
//
// Contract:
// - add() refuses a name already there (FleetError), and a name that is not
//   one plain path component (it names the account's Maildir folder).
//   A new account is due at once.
// - remove() deletes the row only: the account's backup (catalog rows,
//   message files) stays. Removing an account a worker holds is allowed: its
//   release then finds no row and says so (Leases::release returns false).
// - list() is ordered by name.
// Database errors: store::StoreError.
#pragma once

#include <imapkeep/fleet/fleet_account.hpp>
#include <imapkeep/fleet/fleet_db.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace imapkeep::fleet {

class FleetError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Whether `name` can name a fleet account (the same rule as a config
// [[account]] name: letters, digits and . _ - @ +, not first . or -).
bool valid_fleet_account_name(const std::string& name);

class AccountRegistry {
  public:
    explicit AccountRegistry(FleetDb& db) : m_db(db) {}

    void add(const FleetAccount& account);
    // False when there was no such account.
    bool remove(const std::string& name);
    std::vector<FleetAccount> list();
    std::optional<FleetAccount> find(const std::string& name);

  private:
    FleetDb& m_db;
};

// The fleet's accounts, ordered by name, for `imapkeep status`, which writes
// nothing: read in a read-only session, without creating or migrating the
// schema (a FleetDb would). None when the schema or its fleet table is not
// there (no worker or `accounts` command has run on it yet). With
// `server_now_ms`, also the database server's clock (the leases' clock).
std::vector<FleetAccount> read_fleet_accounts(const FleetDbOptions& options,
                                              std::int64_t* server_now_ms = nullptr);

}  // namespace imapkeep::fleet
