-- Undoing a mail reader's renames (sync/unchanged.cpp) compares a folder's
-- files with the live rows' file names. Read through this covering index, the
-- scan touches only that mailbox's names, in about a quarter of the pages the
-- rows themselves fill, instead of every row of the table (issue 10: a
-- 1%-changed run of 20k messages read 3,371 pages).
CREATE INDEX message_live_file ON message(mailbox_id, file) WHERE expunged_at IS NULL;
