// Reading a fleet_accounts row, shared by the registry and the leases: one
// column list, so a SELECT and its reader never disagree.
#pragma once

#include <imapkeep/fleet/fleet_account.hpp>
#include <string>

#include "store/postgres/pg_connection.hpp"

namespace imapkeep::fleet {

// The columns read_fleet_row() expects, in order (for SELECT and RETURNING).
extern const std::string kFleetColumns;

FleetAccount read_fleet_row(const store::PgResult& rows, int row);

}  // namespace imapkeep::fleet
