-- A catalog's identity, made once, for the S3 store's prefix owner
-- (store/s3_prefix_owner.hpp): gc deletes the objects under its prefix that
-- no row of its own catalog names, so a second catalog writing under the
-- same prefix would lose its objects to the first's gc (and the reverse).
-- The first writer or gc of a prefix leaves this id there; any other
-- catalog's is refused. A copy of the schema (pg_dump, a restore) keeps it.
CREATE TABLE catalog_id (id TEXT NOT NULL);
INSERT INTO catalog_id(id) SELECT gen_random_uuid()::text;
