-- Every live mailbox has a Maildir folder of its own (case 3: "INBOX/x" and
-- "inbox/x" both mapped to .INBOX.x, and cleanup of one deleted the other's
-- mail). New folders come from allocate_folder() (folder_allocation.hpp); this
-- index makes the catalog refuse a second live mailbox on a folder.
--
-- Catalogs written before may already share folders. The oldest mailbox keeps
-- the folder; each other live one moves to "<folder>%~<id>" (".INBOX" standing
-- in for the root, cut to stay within 255 bytes; folders are ASCII). Only the
-- mailbox row changes: its message rows keep naming their files where they
-- are, and orphan cleanup keeps every file any row names, so nothing is lost.
-- New mail for it goes to the new folder.
UPDATE mailbox
   SET folder = substr(CASE folder WHEN '' THEN '.INBOX' ELSE folder END, 1,
                       255 - length('%~' || id)) || '%~' || id
 WHERE deleted_at IS NULL
   AND EXISTS (SELECT 1 FROM mailbox AS older
                WHERE older.account_id = mailbox.account_id
                  AND older.folder = mailbox.folder
                  AND older.deleted_at IS NULL
                  AND older.id < mailbox.id);

CREATE UNIQUE INDEX mailbox_live_folder ON mailbox(account_id, folder) WHERE deleted_at IS NULL;

-- Orphan cleanup asks which rows name files in a directory (a range on file).
CREATE INDEX message_file ON message(file);
