#include <imapkeep/fleet/fleet_db.hpp>

#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_migrations.hpp"

namespace imapkeep::fleet {

FleetDb::FleetDb(const FleetDbOptions& options)
    : m_options(options), m_db(std::make_unique<store::PgConnection>(options.conninfo)) {
    m_db->set_session("SET search_path TO " + m_db->quote_identifier(options.schema) +
                      "; SET client_encoding TO 'UTF8'; SET synchronous_commit TO on;"
                      " SET lock_timeout TO '10s'");
    store::apply_postgres_migrations(*m_db, options.schema, store::compiled_postgres_migrations());
    m_db->allow_reconnect(true);
}

FleetDb::~FleetDb() = default;

std::int64_t server_now_ms(FleetDb& db) {
    return db.connection()
        .exec("SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT")
        .int64(0, 0);
}

}  // namespace imapkeep::fleet
