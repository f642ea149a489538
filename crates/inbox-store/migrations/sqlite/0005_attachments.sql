-- M7: the files of attachments, in the database so that every process sharing it serves them.
-- Written in the transaction of the message that carries the file; deleted with it (M5).
-- Keyed by account and the generated storage key (A1: another account's key finds nothing).
CREATE TABLE attachments (
    account_id      BLOB NOT NULL REFERENCES accounts (id),
    storage_key     TEXT NOT NULL,                 -- generated, never the file's name
    message_id      BLOB NOT NULL REFERENCES messages (id),
    content_type    TEXT NOT NULL,                 -- from the allow-list
    file_name       TEXT NOT NULL,                 -- sanitized, for display and download only
    size_bytes      INTEGER NOT NULL CHECK (size_bytes > 0),
    bytes           BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (account_id, storage_key)
);
CREATE INDEX attachments_message ON attachments (message_id);
