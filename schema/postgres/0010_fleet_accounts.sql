-- schema/0010_fleet_accounts.sql translated; this is the table that matters:
-- the accounts a fleet of `imapkeep worker` processes backs up (issue 13),
-- each with its lease. Workers on many machines claim a due account with
-- SELECT ... FOR UPDATE SKIP LOCKED and hold it by renewing lease_until_ms;
-- an expired lease is claimable by any worker. Times are epoch milliseconds
-- of the server's clock (clock_timestamp()), so workers' clocks never matter.
-- No password is stored: password_command is a template run by the worker.
CREATE TABLE fleet_accounts (
    name              TEXT COLLATE "C" PRIMARY KEY,  -- the catalog's account name
    template          TEXT COLLATE "C" NOT NULL DEFAULT '',  -- a config [[account]] for the other settings
    host              TEXT NOT NULL DEFAULT '',
    port              INTEGER NOT NULL DEFAULT 0,    -- 0: the template's, else by tls
    tls               TEXT NOT NULL DEFAULT '',      -- '' | implicit | starttls | none
    auth_user         TEXT NOT NULL DEFAULT '',      -- the mailbox's user name
    master_user       TEXT NOT NULL DEFAULT '',      -- SASL PLAIN authcid (authzid = auth_user)
    password_command  TEXT NOT NULL DEFAULT '',      -- %u user, %m master user, %a account
    interval_ms       BIGINT NOT NULL DEFAULT 3600000,
    next_due_ms       BIGINT NOT NULL DEFAULT 0,
    lease_owner       TEXT,
    lease_until_ms    BIGINT,
    lease_generation  BIGINT NOT NULL DEFAULT 0,
    last_started_ms   BIGINT,
    last_finished_ms  BIGINT,
    last_exit_code    INTEGER,
    last_status       TEXT NOT NULL DEFAULT '',
    last_error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX fleet_accounts_due ON fleet_accounts(next_due_ms);
