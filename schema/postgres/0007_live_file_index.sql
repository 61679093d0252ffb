-- schema/0007_live_file_index.sql translated: the live rows' file names of a
-- mailbox, read without the rows (for_each_live_file).
CREATE INDEX message_live_file ON message(mailbox_id, file) WHERE expunged_at IS NULL;
