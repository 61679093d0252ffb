// One account of a worker fleet: a row of fleet_accounts
// (schema/postgres/0010_fleet_accounts.sql). What to connect to and how to get
// the password; the rest of the settings (CA file, mailboxes, connections,
// timeouts) come from `template`, an [[account]] of the worker's config.
// No password is ever held here: password_command is a template the worker
// runs (fleet/password_template.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace imapkeep::fleet {

struct FleetAccount {
    std::string name;              // the catalog's account name (one path component)
    std::string template_account;  // "" = none
    std::string host;              // "" = the template's
    int port = 0;                  // 0 = the template's, else 993 with tls, 143 without
    std::string tls;          // "" (the template's, else implicit) | implicit | starttls | none
    std::string user;         // the mailbox's login (SASL PLAIN authzid with a master user)
    std::string master_user;  // "" = log in as `user` itself
    std::string password_command;            // %u, %m, %a, %% (password_template.hpp)
    std::int64_t interval_ms = 3600 * 1000;  // between the end of a run and the next due time

    // Kept by the fleet (read-only for callers of add()).
    std::int64_t next_due_ms = 0;
    std::optional<std::string> lease_owner;
    std::optional<std::int64_t> lease_until_ms;
    std::int64_t lease_generation = 0;
    std::optional<std::int64_t> last_started_ms;
    std::optional<std::int64_t> last_finished_ms;
    std::optional<int> last_exit_code;
    std::string last_status;  // "" (never ran) | ok | partial | failed | interrupted | lost
    std::string last_error;
    // The run record (Catalog::begin_run's id) of the account's last leased
    // run, linked by the holder's fenced catalog as it begins the record, and
    // unlinked by the next claim (lease.hpp). Still open without a live
    // lease: that run's worker died (schema 14).
    std::optional<std::int64_t> run_id;
};

}  // namespace imapkeep::fleet
