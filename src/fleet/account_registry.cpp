#include <algorithm>
#include <imapkeep/fleet/account_registry.hpp>

#include "fleet/fleet_row.hpp"
#include "store/postgres/pg_connection.hpp"

namespace imapkeep::fleet {

bool valid_fleet_account_name(const std::string& name) {
    if (name.empty() || name.front() == '.' || name.front() == '-') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-' || c == '@' || c == '+';
    });
}

void AccountRegistry::add(const FleetAccount& a) {
    if (!valid_fleet_account_name(a.name))
        throw FleetError("account name \"" + a.name +
                         "\": must be letters, digits and . _ - @ + (not starting with . or -)");
    auto inserted = m_db.connection().query(
        "INSERT INTO fleet_accounts(name, template, host, port, tls, auth_user, master_user,"
        " password_command, interval_ms, next_due_ms)"
        " VALUES ($1::text, $2::text, $3::text, $4::int, $5::text, $6::text, $7::text, $8::text,"
        " $9::bigint, 0) ON CONFLICT (name) DO NOTHING",
        a.name, a.template_account, a.host, std::int64_t{a.port}, a.tls, a.user, a.master_user,
        a.password_command, a.interval_ms);
    if (inserted.affected() == 0) throw FleetError("account " + a.name + " already exists");
}

bool AccountRegistry::remove(const std::string& name) {
    return m_db.connection()
               .query("DELETE FROM fleet_accounts WHERE name = $1::text", name)
               .affected() > 0;
}

std::vector<FleetAccount> AccountRegistry::list() {
    auto rows = m_db.connection().exec(std::string("SELECT ") + kFleetColumns +
                                       " FROM fleet_accounts ORDER BY name");
    std::vector<FleetAccount> out;
    for (int i = 0; i < rows.rows(); ++i) out.push_back(read_fleet_row(rows, i));
    return out;
}

std::optional<FleetAccount> AccountRegistry::find(const std::string& name) {
    auto rows = m_db.connection().query(
        std::string("SELECT ") + kFleetColumns + " FROM fleet_accounts WHERE name = $1::text",
        name);
    if (rows.rows() == 0) return std::nullopt;
    return read_fleet_row(rows, 0);
}

std::vector<FleetAccount> read_fleet_accounts(const FleetDbOptions& options, std::int64_t* server_now_ms) {
    store::PgConnection db(options.conninfo);
    db.set_session("SET search_path TO " + db.quote_identifier(options.schema) +
                   "; SET client_encoding TO 'UTF8'; SET default_transaction_read_only TO on");
    if (server_now_ms)
        *server_now_ms = db.exec("SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT").int64(0, 0);
    // to_regclass follows search_path: NULL for a missing schema or table.
    if (db.exec("SELECT to_regclass('fleet_accounts') IS NULL").boolean(0, 0)) return {};
    // A schema older than 14 (not migrated: status writes nothing) has no run_id.
    std::string columns = kFleetColumns;
    if (db.exec("SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND table_name = 'fleet_accounts' AND column_name = 'run_id'")
            .int64(0, 0) == 0)
        columns.replace(columns.rfind("run_id"), 6, "NULL::bigint");
    auto rows = db.exec("SELECT " + columns + " FROM fleet_accounts ORDER BY name");
    std::vector<FleetAccount> out;
    for (int i = 0; i < rows.rows(); ++i) out.push_back(read_fleet_row(rows, i));
    return out;
}

}  // namespace imapkeep::fleet
