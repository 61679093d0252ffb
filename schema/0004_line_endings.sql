-- How each message file holds the server's bytes (store/line_endings.hpp):
-- 'wire' byte for byte, 'lf' with each CRLF of a pure-CRLF message as LF (so
-- mail readers show no ^M). size and sha256 stay those of the wire bytes, so
-- they still prove the original. Every file written before is byte for byte.
ALTER TABLE message ADD COLUMN line_endings TEXT NOT NULL DEFAULT 'wire'
    CHECK (line_endings IN ('wire', 'lf'));
