-- The daily download budget (daily_download_mb, issue 12): the bytes each
-- account downloaded on each UTC day, so that cron runs of the same day share
-- one budget. A run adds what it fetched in the transactions that catalog
-- the messages. Rows of past days stay, small, for `status` and history.
CREATE TABLE download_usage (
    account_id  INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    day         INTEGER NOT NULL,            -- days since 1970-01-01, UTC
    bytes       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day)
);
