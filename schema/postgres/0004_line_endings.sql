-- schema/0004_line_endings.sql translated: how each message file holds the
-- server's bytes ('wire' byte for byte, 'lf' with each CRLF as LF).
ALTER TABLE message ADD COLUMN line_endings TEXT COLLATE "C" NOT NULL DEFAULT 'wire'
    CHECK (line_endings IN ('wire', 'lf'));
