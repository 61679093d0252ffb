-- The daily upload budget (daily_upload_mb, issue 12): the bytes restores
-- APPENDed to each account on each UTC day, so that restores of the same day
-- share one budget. The same ledger as the download budget's, one more
-- counter per (account, day): `bytes` stays the downloads. A restore adds
-- what it sent in the transactions that journal the APPENDs; the target's
-- account row is made for it when it has none.
ALTER TABLE download_usage ADD COLUMN uploaded INTEGER NOT NULL DEFAULT 0;
