-- schema/0005_folder_stamp.sql translated: MessageStore::folder_stamp() as of
-- the run that last found the folder clean, '' for never.
ALTER TABLE mailbox ADD COLUMN folder_stamp TEXT COLLATE "C" NOT NULL DEFAULT '';
