#include "store/migrations.hpp"

#include <charconv>

namespace imapkeep::store {

int migration_version(const std::string& name) {
    int version = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), version);
    if (ec != std::errc() || end == name.data() || version <= 0)
        throw StoreError("schema migration " + name + " does not start with a version number");
    return version;
}

void check_migrations(const std::vector<Migration>& migrations) {
    int expected = 1;
    for (const auto& m : migrations) {
        if (migration_version(m.name) != expected)
            throw StoreError("schema migration " + m.name + ": expected version " +
                             std::to_string(expected) + " (versions must be 1, 2, 3... in order)");
        ++expected;
    }
}

void apply_migrations(SqliteDb& db, const std::vector<Migration>& migrations) {
    check_migrations(migrations);
    const auto latest = static_cast<std::int64_t>(migrations.size());
    auto too_new = [&](std::int64_t current) {
        return StoreError("catalog schema version " + std::to_string(current) +
                          " is newer than this imapkeep supports (" + std::to_string(latest) +
                          "); upgrade imapkeep to open it");
    };
    // Quick path without a write lock: an up-to-date catalog opens read-only.
    std::int64_t current = db.pragma_int("user_version");
    if (current > latest) throw too_new(current);

    for (const auto& m : migrations) {
        const int version = migration_version(m.name);
        if (version <= current) continue;
        db.exec("BEGIN IMMEDIATE");
        try {
            current = db.pragma_int("user_version");
            if (current > latest) throw too_new(current);
            if (version > current) {
                db.exec(m.sql);
                // PRAGMA takes no bound parameters; the version is our own integer.
                db.exec("PRAGMA user_version = " + std::to_string(version));
                current = version;
            }
            db.exec("COMMIT");
        } catch (...) {
            try {
                db.exec("ROLLBACK");
            } catch (const StoreError&) {
                // The failed statement may already have ended the transaction.
            }
            throw;
        }
    }
}

}  // namespace imapkeep::store
