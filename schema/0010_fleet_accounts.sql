-- The accounts of a worker fleet and their leases (issue 13). The fleet runs
-- on a PostgreSQL catalog only (schema/postgres/0010_fleet_accounts.sql,
-- which explains the columns); this twin exists because the two lists of
-- migrations go step by step, and stays empty in an SQLite catalog.
CREATE TABLE fleet_accounts (
    name              TEXT PRIMARY KEY,
    template          TEXT NOT NULL DEFAULT '',
    host              TEXT NOT NULL DEFAULT '',
    port              INTEGER NOT NULL DEFAULT 0,
    tls               TEXT NOT NULL DEFAULT '',
    auth_user         TEXT NOT NULL DEFAULT '',
    master_user       TEXT NOT NULL DEFAULT '',
    password_command  TEXT NOT NULL DEFAULT '',
    interval_ms       INTEGER NOT NULL DEFAULT 3600000,
    next_due_ms       INTEGER NOT NULL DEFAULT 0,
    lease_owner       TEXT,
    lease_until_ms    INTEGER,
    lease_generation  INTEGER NOT NULL DEFAULT 0,
    last_started_ms   INTEGER,
    last_finished_ms  INTEGER,
    last_exit_code    INTEGER,
    last_status       TEXT NOT NULL DEFAULT '',
    last_error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX fleet_accounts_due ON fleet_accounts(next_due_ms);
