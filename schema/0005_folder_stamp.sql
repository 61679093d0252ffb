-- A no-change run skips the Maildir folders that have not changed since a run
-- last found them clean (no tmp/ leftovers, no file a mail reader renamed):
-- folder_stamp is MessageStore::folder_stamp() as of that run, "" for never.
ALTER TABLE mailbox ADD COLUMN folder_stamp TEXT NOT NULL DEFAULT '';
