#include "store/postgres/pg_migrations.hpp"

namespace imapkeep::store {
namespace {

StoreError too_new(const std::string& schema, int current, int latest) {
    return StoreError("catalog (PostgreSQL schema " + schema + "): schema version " +
                      std::to_string(current) + " is newer than this imapkeep supports (" +
                      std::to_string(latest) + "); upgrade imapkeep to open it");
}

bool schema_exists(PgConnection& db, const std::string& schema) {
    return db.query("SELECT 1 FROM pg_namespace WHERE nspname = $1::text", schema).rows() > 0;
}

void create_version_table(PgConnection& db, const std::string& quoted) {
    db.exec("CREATE TABLE IF NOT EXISTS " + quoted +
            ".schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at BIGINT NOT NULL DEFAULT (EXTRACT(EPOCH FROM now())::BIGINT))");
}

void apply_pending(PgConnection& db, const std::string& schema,
                   const std::vector<Migration>& migrations, int current) {
    const auto quoted = db.quote_identifier(schema);
    if (!schema_exists(db, schema)) db.exec("CREATE SCHEMA " + quoted);
    create_version_table(db, quoted);
    // The files name their tables unqualified, as the SQLite ones do.
    db.exec("SET LOCAL search_path TO " + quoted);
    for (const auto& m : migrations) {
        const int version = migration_version(m.name);
        if (version <= current) continue;
        db.exec(m.sql);
        db.query(
            "INSERT INTO " + quoted + ".schema_version(version, name) VALUES ($1::int, $2::text)",
            std::int64_t{version}, m.name);
    }
}

}  // namespace

std::int64_t postgres_lock_key(const std::string& what, const std::string& schema) {
    std::uint64_t hash = 1469598103934665603ull;
    for (unsigned char c : "imapkeep " + what + " " + schema) {
        hash ^= c;
        hash *= 1099511628211ull;
    }
    return static_cast<std::int64_t>(hash);
}

int postgres_schema_version(PgConnection& db, const std::string& schema) {
    const auto quoted = db.quote_identifier(schema);
    // pg_tables, read in the statement's snapshot, not to_regclass: a
    // session's name lookups may be cached (a missing schema too) until it
    // takes a relation lock, and the migration lock is an advisory one, so
    // an unlocked look before it would otherwise hide a schema another
    // connection made meanwhile.
    if (db.query("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = $1::text"
                 " AND tablename = 'schema_version'",
                 schema)
            .int64(0, 0) == 0)
        return 0;
    return static_cast<int>(
        db.exec("SELECT COALESCE(MAX(version), 0) FROM " + quoted + ".schema_version").int64(0, 0));
}

namespace {

void apply_locked(PgConnection& db, const std::string& schema,
                  const std::vector<Migration>& migrations) {
    const int latest = static_cast<int>(migrations.size());
    db.query("SELECT pg_advisory_xact_lock($1)", postgres_lock_key("migrations", schema));
    const int current = postgres_schema_version(db, schema);
    if (current > latest) throw too_new(schema, current, latest);
    if (current < latest) apply_pending(db, schema, migrations, current);
}

}  // namespace

void apply_postgres_migrations_in_transaction(PgConnection& db, const std::string& schema,
                                              const std::vector<Migration>& migrations) {
    check_migrations(migrations);
    // Unlocked first: a catalog already at this version takes no lock that
    // another opener would wait on until this transaction ends.
    if (postgres_schema_version(db, schema) == static_cast<int>(migrations.size())) return;
    apply_locked(db, schema, migrations);
}

void apply_postgres_migrations(PgConnection& db, const std::string& schema,
                               const std::vector<Migration>& migrations) {
    check_migrations(migrations);
    // Unlocked first, as above: each catalog connection a fleet's workers
    // open (one per parallel mailbox of each account) would otherwise take
    // turns on the lock, two round trips each, to learn there is nothing to
    // do. A version read at the latest is committed: no migration is half done.
    if (postgres_schema_version(db, schema) == static_cast<int>(migrations.size())) return;
    db.exec("BEGIN");
    try {
        apply_locked(db, schema, migrations);
        if (db.exec("COMMIT").status() != "COMMIT")
            throw StoreError("catalog (PostgreSQL schema " + schema +
                             "): the migration transaction was rolled back");
    } catch (...) {
        try {
            db.exec("ROLLBACK");
        } catch (const StoreError&) {
            // Already ended (a failed COMMIT), or the connection is gone.
        }
        throw;
    }
}

}  // namespace imapkeep::store
