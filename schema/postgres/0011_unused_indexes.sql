-- schema/0011_unused_indexes.sql translated: the two indexes no query uses.
DROP INDEX IF EXISTS message_sha256;
DROP INDEX IF EXISTS message_message_id;
