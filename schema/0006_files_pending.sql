-- The orphan sweep (store/orphans.hpp) lists a mailbox's folder and stats its
-- files. It is needed only where a run may have renamed files into the folder
-- without cataloging them (killed between the rename and its commit), so each
-- mailbox carries a marker: set durably before a run's first rename into its
-- folder, cleared in the commit that catalogs the run's last batch. The sweep
-- runs while it is set. Every existing mailbox starts with it set, so an older
-- store is swept once, and so does every new mailbox (a new folder is empty).
ALTER TABLE mailbox ADD COLUMN files_pending INTEGER NOT NULL DEFAULT 1;
