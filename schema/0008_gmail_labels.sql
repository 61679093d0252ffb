-- Gmail (X-GM-EXT-1): All Mail holds the one copy of each message; its labels
-- come with it in X-GM-LABELS. gmail_message keeps a message's Gmail ids and
-- its current labels, label_history every label set it had (like
-- flag_history), and label_link the hard links that make the Maildir view of
-- each label folder (same inode as the copy). Labels are joined with LF, in
-- the server's wire form (modified UTF-7), sorted. A new message is cataloged
-- first and linked in a later commit: `linked` is 0 until its label_link rows
-- match its labels, so a run killed in between links it next time, and no
-- link is ever made to a copy the catalog does not have.
CREATE TABLE gmail_message (
    message_id  INTEGER PRIMARY KEY REFERENCES message(id) ON DELETE CASCADE,
    msgid       INTEGER NOT NULL,                  -- X-GM-MSGID
    thrid       INTEGER NOT NULL,                  -- X-GM-THRID
    labels      TEXT NOT NULL DEFAULT '',
    linked      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX gmail_message_msgid ON gmail_message(msgid);
CREATE INDEX gmail_message_unlinked ON gmail_message(message_id) WHERE linked = 0;

CREATE TABLE label_history (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    labels      TEXT NOT NULL                      -- the full set from `at` on
);
CREATE INDEX label_history_message ON label_history(message_id, at);

CREATE TABLE label_link (
    message_id  INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE,
    label       TEXT NOT NULL,
    file        TEXT NOT NULL,                     -- relative to the store root
    PRIMARY KEY (message_id, label)
);
CREATE INDEX label_link_file ON label_link(file);
