-- Every flag change renames the message's file, which changes the key of
-- message_file: a random leaf page of it rewritten per change, and written to
-- the log at each commit. In a 1% changed run of 20k messages that was about
-- a quarter of the pages written, and it pushed the log over the checkpoint
-- threshold (issue 10). Its only reader is the orphan sweep after a killed
-- run (Catalog::files_in_dir), which now scans the table: a rare path, a few
-- milliseconds per 10k messages. Lookups of one mailbox's live files keep
-- message_live_file.
DROP INDEX IF EXISTS message_file;
