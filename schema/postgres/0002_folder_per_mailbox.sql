-- schema/0002_folder_per_mailbox.sql translated: every live mailbox has a
-- Maildir folder of its own, and the catalog refuses a second live mailbox on
-- a folder. The UPDATE moves the folders that catalogs written before shared
-- (see the SQLite file for the whole story); a PostgreSQL catalog starts at
-- version 1 with no rows, so it changes nothing here, and is kept so that the
-- two lists stay step for step the same.
UPDATE mailbox
   SET folder = substr(CASE folder WHEN '' THEN '.INBOX' ELSE folder END, 1,
                       255 - length('%~' || id::TEXT)) || '%~' || id::TEXT
 WHERE deleted_at IS NULL
   AND EXISTS (SELECT 1 FROM mailbox AS older
                WHERE older.account_id = mailbox.account_id
                  AND older.folder = mailbox.folder
                  AND older.deleted_at IS NULL
                  AND older.id < mailbox.id);

CREATE UNIQUE INDEX mailbox_live_folder ON mailbox(account_id, folder) WHERE deleted_at IS NULL;

-- Orphan cleanup asks which rows name files in a directory (a range on file,
-- in the column's "C" collation).
CREATE INDEX message_file ON message(file);
