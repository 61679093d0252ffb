-- schema/0006_files_pending.sql translated: the orphan-sweep marker, set for
-- every mailbox until a run clears it (store/orphans.hpp).
ALTER TABLE mailbox ADD COLUMN files_pending BOOLEAN NOT NULL DEFAULT true;
