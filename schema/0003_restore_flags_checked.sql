-- A restore journals each APPEND at once, and checks the flags the target kept
-- afterwards (restore_fixup.hpp). A run cut in between left the flags a server
-- dropped on APPEND missing for good: the next run saw the messages journaled
-- and looked no further. flags_checked is 0 from the APPEND until the check;
-- a later run checks what is still 0. Rows written before were checked then.
ALTER TABLE restore_journal ADD COLUMN flags_checked INTEGER NOT NULL DEFAULT 1;
