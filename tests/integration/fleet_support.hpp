// The worker fleet's accounts in the test Dovecot (scripts/test-env/dovecot.sh):
// fleet01 ... fleetNN (IMAPKEEP_TEST_FLEET_USERS), reached only through the
// master user IMAPKEEP_TEST_MASTER_USER (SASL PLAIN authzid).
#pragma once

#include <cstdio>
#include <imapkeep/imap/connect.hpp>
#include <string>

#include "integration/backup_support.hpp"

namespace imapkeep::testing {

inline bool have_fleet_env() {
    return test_env_has({"IMAPKEEP_TEST_IMAP_PORT", "IMAPKEEP_TEST_MASTER_USER",
                         "IMAPKEEP_TEST_MASTER_PASSWORD", "IMAPKEEP_TEST_FLEET_USERS"},
                        "the test Dovecot with its fleet users and master user");
}

inline int fleet_user_count() { return std::stoi(env("IMAPKEEP_TEST_FLEET_USERS").value_or("0")); }

// "fleet07" for n = 7 (as many digits as the count has).
inline std::string fleet_user(int n) {
    const int width = static_cast<int>(std::to_string(fleet_user_count()).size());
    char name[32];
    std::snprintf(name, sizeof name, "fleet%0*d", width, n);
    return name;
}

// Plain TCP, SASL PLAIN as the master user on behalf of fleet user n.
inline imap::ConnectOptions fleet_options(int n) {
    imap::ConnectOptions o = dovecot_options(1);
    o.user = fleet_user(n);
    o.master_user = env("IMAPKEEP_TEST_MASTER_USER").value_or("");
    const std::string pw = env("IMAPKEEP_TEST_MASTER_PASSWORD").value_or("");
    o.password = [pw] { return pw; };
    return o;
}

}  // namespace imapkeep::testing
