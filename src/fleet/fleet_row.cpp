#include "fleet/fleet_row.hpp"

namespace imapkeep::fleet {

FleetAccount read_fleet_row(const store::PgResult& rows, int row) {
    FleetAccount a;
    a.name = rows.text(row, 0);
    a.template_account = rows.text(row, 1);
    a.host = rows.text(row, 2);
    a.port = static_cast<int>(rows.int64(row, 3));
    a.tls = rows.text(row, 4);
    a.user = rows.text(row, 5);
    a.master_user = rows.text(row, 6);
    a.password_command = rows.text(row, 7);
    a.interval_ms = rows.int64(row, 8);
    a.next_due_ms = rows.int64(row, 9);
    if (!rows.is_null(row, 10)) a.lease_owner = rows.text(row, 10);
    a.lease_until_ms = rows.optional_int64(row, 11);
    a.lease_generation = rows.int64(row, 12);
    a.last_started_ms = rows.optional_int64(row, 13);
    a.last_finished_ms = rows.optional_int64(row, 14);
    if (auto code = rows.optional_int64(row, 15)) a.last_exit_code = static_cast<int>(*code);
    a.last_status = rows.text(row, 16);
    a.last_error = rows.text(row, 17);
    a.run_id = rows.optional_int64(row, 18);
    return a;
}

}  // namespace imapkeep::fleet
