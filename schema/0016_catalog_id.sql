-- A catalog's identity, made once (issue 13, "one catalog per bucket prefix
-- is documented, not enforced"); explained in
-- schema/postgres/0016_catalog_id.sql. This twin exists because the two
-- lists of migrations go step by step.
CREATE TABLE catalog_id (id TEXT NOT NULL);
INSERT INTO catalog_id(id) VALUES (lower(hex(randomblob(16))));
