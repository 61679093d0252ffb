-- schema/0009_download_usage.sql translated: the bytes each account
-- downloaded on each UTC day (the daily download budget).
CREATE TABLE download_usage (
    account_id  BIGINT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    day         BIGINT NOT NULL,             -- days since 1970-01-01, UTC
    bytes       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day)
);
