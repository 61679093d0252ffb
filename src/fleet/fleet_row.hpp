// Reading a fleet_accounts row, shared by the registry and the leases: one
// column list, so a SELECT and its reader never disagree.
#pragma once

#include <imapkeep/fleet/fleet_account.hpp>
#include <string>

#include "store/postgres/pg_connection.hpp"

namespace imapkeep::fleet {

// The columns read_fleet_row() expects, in order (for SELECT and RETURNING).
// A constant expression: other files' statics build their SQL from it before
// main(), whatever the order in which files are initialized.
inline constexpr const char* kFleetColumns =
    "name, template, host, port, tls, auth_user, master_user, password_command, interval_ms,"
    " next_due_ms, lease_owner, lease_until_ms, lease_generation, last_started_ms,"
    " last_finished_ms, last_exit_code, last_status, last_error, run_id";

FleetAccount read_fleet_row(const store::PgResult& rows, int row);

}  // namespace imapkeep::fleet
