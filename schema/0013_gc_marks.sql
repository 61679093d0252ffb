-- Garbage collection of S3 objects (imapkeep gc, issue 13): the objects a gc
-- run found unreferenced and old, and when. A later run deletes one only if
-- its mark is still there after the grace period; a writer that reuses or
-- uploads an object first removes its mark (the protocol is explained in
-- include/imapkeep/store/blob_ledger.hpp). S3 stores pair with a PostgreSQL
-- catalog only (schema/postgres/0013_gc_marks.sql); this twin exists because
-- the two lists of migrations go step by step, and stays empty in SQLite.
CREATE TABLE gc_mark (
    file       TEXT PRIMARY KEY,   -- the key as catalog rows name it: "s3:blobs/ab/cd/<sha256>"
    marked_at  INTEGER NOT NULL    -- seconds since 1970, the gc run's clock
);
