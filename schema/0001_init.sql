-- imapkeep catalog, version 1. Applied by src/store/migrations.cpp inside a
-- transaction; the version lives in PRAGMA user_version. Times are epoch
-- seconds. Flags are a space-joined, sorted string ("\Seen $Label1").

CREATE TABLE account (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL DEFAULT (strftime('%s', 'now'))
);

CREATE TABLE mailbox (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,              -- UTF-8
    delimiter      TEXT NOT NULL DEFAULT '',
    folder         TEXT NOT NULL,              -- Maildir++ folder, '' = INBOX
    uidvalidity    INTEGER NOT NULL DEFAULT 0,
    uidnext        INTEGER NOT NULL DEFAULT 0,  -- every UID below is durable
    highestmodseq  INTEGER NOT NULL DEFAULT 0,
    mailboxid      TEXT NOT NULL DEFAULT '',    -- RFC 8474
    sync_path      TEXT NOT NULL DEFAULT '',
    last_sync_at   INTEGER,
    deleted_at     INTEGER
);
-- A name is unique among live mailboxes; deleted ones keep theirs for history.
CREATE UNIQUE INDEX mailbox_live_name ON mailbox(account_id, name) WHERE deleted_at IS NULL;
CREATE INDEX mailbox_account ON mailbox(account_id, name);

CREATE TABLE message (
    id                 INTEGER PRIMARY KEY,
    mailbox_id         INTEGER NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,
    uidvalidity        INTEGER NOT NULL,
    uid                INTEGER NOT NULL,
    internaldate       INTEGER NOT NULL,
    internaldate_zone  INTEGER NOT NULL DEFAULT 0,
    size               INTEGER NOT NULL,
    sha256             TEXT NOT NULL,
    message_id         TEXT NOT NULL DEFAULT '',   -- the Message-ID header
    flags              TEXT NOT NULL DEFAULT '',
    modseq             INTEGER NOT NULL DEFAULT 0,
    file               TEXT NOT NULL,              -- relative to the store root
    added_at           INTEGER NOT NULL,
    expunged_at        INTEGER
);
CREATE UNIQUE INDEX message_live_uid ON message(mailbox_id, uidvalidity, uid)
    WHERE expunged_at IS NULL;
CREATE INDEX message_mailbox ON message(mailbox_id, uidvalidity, uid);
CREATE INDEX message_message_id ON message(message_id);
CREATE INDEX message_sha256 ON message(sha256);

CREATE TABLE flag_history (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    flags       TEXT NOT NULL                      -- the full set from `at` on
);
CREATE INDEX flag_history_message ON flag_history(message_id, at);

CREATE TABLE uid_history (
    id           INTEGER PRIMARY KEY,
    message_id   INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE,
    uidvalidity  INTEGER NOT NULL,
    uid          INTEGER NOT NULL,
    from_at      INTEGER NOT NULL,
    to_at        INTEGER                            -- NULL while current
);
CREATE INDEX uid_history_message ON uid_history(message_id, from_at);
CREATE INDEX uid_history_key ON uid_history(uidvalidity, uid);

CREATE TABLE run (
    id           INTEGER PRIMARY KEY,
    command      TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    status       TEXT NOT NULL DEFAULT 'running',
    report_json  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX run_command ON run(command, started_at);

-- One row per APPEND done by a restore (APPENDUID, RFC 4315), so an interrupted
-- restore resumes without duplicates.
CREATE TABLE restore_journal (
    id                  INTEGER PRIMARY KEY,
    target_account      TEXT NOT NULL,
    target_mailbox      TEXT NOT NULL,
    source_message_id   INTEGER REFERENCES message(id) ON DELETE SET NULL,
    target_uidvalidity  INTEGER NOT NULL DEFAULT 0,
    target_uid          INTEGER NOT NULL DEFAULT 0,
    appended_at         INTEGER NOT NULL
);
CREATE INDEX restore_journal_source ON restore_journal(target_account, target_mailbox,
                                                       source_message_id);
