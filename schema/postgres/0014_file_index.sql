-- schema/0014_file_index.sql's twin keeps the index here: one PostgreSQL
-- catalog holds many accounts, where a scan per orphan sweep would read them
-- all, and garbage collection (imapkeep gc) asks whether a row names an
-- object key. Said on the index itself, for whoever reads the schema.
COMMENT ON INDEX message_file IS
    'kept in PostgreSQL (dropped in SQLite by 0014): files_in_dir and gc look rows up by file';
