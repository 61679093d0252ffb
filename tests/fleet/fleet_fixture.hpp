// A fresh catalog schema in the test PostgreSQL (IMAPKEEP_TEST_PG_URL), dropped
// afterwards (tests/store/catalog_backends.hpp), with fleet connections to it.
#pragma once

#include <imapkeep/fleet/account_registry.hpp>
#include <imapkeep/fleet/fleet_db.hpp>
#include <memory>
#include <string>

#include "store/catalog_backends.hpp"

namespace imapkeep::test {

struct FleetFixture {
    std::unique_ptr<PostgresBackend> backend = make_postgres_backend();

    fleet::FleetDbOptions options() const {
        return fleet::FleetDbOptions{backend->conninfo(), backend->schema()};
    }
    std::unique_ptr<fleet::FleetDb> connect() const {
        return std::make_unique<fleet::FleetDb>(options());
    }
    // Accounts "a00", "a01"... due at once.
    void add_accounts(int count) const {
        auto db = connect();
        fleet::AccountRegistry registry(*db);
        for (int i = 0; i < count; ++i) {
            fleet::FleetAccount a;
            a.name = (i < 10 ? "a0" : "a") + std::to_string(i);
            a.host = "imap.example.org";
            a.user = a.name;
            a.password_command = "cat /run/secrets/%u";
            registry.add(a);
        }
    }
};

}  // namespace imapkeep::test
