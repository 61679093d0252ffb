-- schema/0013_gc_marks.sql translated: the objects a gc run found
-- unreferenced and old, and when (include/imapkeep/store/blob_ledger.hpp).
CREATE TABLE gc_mark (
    file       TEXT COLLATE "C" PRIMARY KEY,  -- "s3:blobs/ab/cd/<sha256>", as rows name it
    marked_at  BIGINT NOT NULL                -- seconds since 1970, the gc run's clock
);
