-- schema/0012_upload_usage.sql translated: the bytes restores APPENDed to
-- each account on each UTC day (the daily upload budget), beside the
-- downloads in the same ledger.
ALTER TABLE download_usage ADD COLUMN uploaded BIGINT NOT NULL DEFAULT 0;
