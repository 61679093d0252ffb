-- No query looks a message up by its SHA-256 or by its Message-ID header
-- (rematching after a UIDVALIDITY change compares them in memory), yet every
-- new row paid for both indexes: random keys, so each insert rewrote a leaf
-- page of each, and a commit wrote them all to the log. In a 1% changed run of
-- 20k messages, 138 of 272 pages written were message_sha256's (issue 10).
-- A feature that needs such a lookup (garbage collection of content-addressed
-- blobs) adds the index it needs with it.
DROP INDEX IF EXISTS message_sha256;
DROP INDEX IF EXISTS message_message_id;
