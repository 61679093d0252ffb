-- schema/0003_restore_flags_checked.sql translated: flags_checked is false from
-- a restore's APPEND until the flags the target kept were checked. Rows
-- written before were checked then.
ALTER TABLE restore_journal ADD COLUMN flags_checked BOOLEAN NOT NULL DEFAULT true;
