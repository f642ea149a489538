-- P1, D14, D15: reports folded from the event log (src/reports*.rs, docs/reports.md).
-- Append-only, like every migration. The same file, in the other dialect, is in ../postgres.
--
-- A catch-up reads the account's events after `report_cursors.last_seq` (SQLite has one
-- writer connection, so catch-ups follow one another), folds them with
-- the core's report folds, and writes the fold states, the rollups, the dialog rows and the
-- new cursor in one transaction: each event is counted exactly once.
--
-- Days are UTC day numbers (days since 1970-01-01); `week` and `month` are the day numbers of
-- the Monday and of the first of the month that hold `day`, so every period is a plain GROUP BY.
-- No inbox, queue, agent or reason is the nil UUID, 16 zero bytes (NULLs are distinct in a primary key).
CREATE TABLE report_cursors (
    account_id BLOB PRIMARY KEY REFERENCES accounts (id),
    last_seq   INTEGER NOT NULL
);

-- The fold state of each conversation and dialog (JSON of `ConversationFold` / `DialogFold`).
CREATE TABLE report_folds (
    account_id BLOB NOT NULL,
    subject_id BLOB NOT NULL,
    state      TEXT NOT NULL,
    PRIMARY KEY (account_id, subject_id)
);

-- P1: per day and combination of dimensions, how many facts of a metric and their sum.
CREATE TABLE report_rollups (
    account_id BLOB NOT NULL,
    day        INTEGER NOT NULL,
    week       INTEGER NOT NULL,
    month      INTEGER NOT NULL,
    metric     TEXT NOT NULL,
    inbox_id   BLOB NOT NULL,
    queue_id   BLOB NOT NULL,
    agent_id   BLOB NOT NULL,
    reason_id  BLOB NOT NULL,
    n          INTEGER NOT NULL,
    total      INTEGER NOT NULL,
    PRIMARY KEY (account_id, day, metric, inbox_id, queue_id, agent_id, reason_id)
);

-- P1: the sparse histogram of durations and ratings per day and combination (the bucket is
-- `reports::histogram::bucket` of the value).
CREATE TABLE report_buckets (
    account_id BLOB NOT NULL,
    day        INTEGER NOT NULL,
    week       INTEGER NOT NULL,
    month      INTEGER NOT NULL,
    metric     TEXT NOT NULL,
    inbox_id   BLOB NOT NULL,
    queue_id   BLOB NOT NULL,
    agent_id   BLOB NOT NULL,
    bucket     INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (account_id, day, metric, inbox_id, queue_id, agent_id, bucket)
);

-- D15: one row per dialog, as it is now; `day` is its creation's.
CREATE TABLE report_dialogs (
    account_id      BLOB NOT NULL,
    dialog_id       BLOB NOT NULL,
    day             INTEGER NOT NULL,
    week            INTEGER NOT NULL,
    month           INTEGER NOT NULL,
    status          TEXT NOT NULL,
    request_type_id BLOB NOT NULL,
    duration_secs   INTEGER,
    active_secs     INTEGER,
    contact_rating  INTEGER,
    satisfaction    INTEGER,
    PRIMARY KEY (account_id, dialog_id)
);
CREATE INDEX report_dialogs_by_day ON report_dialogs (account_id, day);

-- D15: the many-valued dimensions of a dialog now: `reason`, `component`, `agent`.
CREATE TABLE report_dialog_dims (
    account_id BLOB NOT NULL,
    dialog_id  BLOB NOT NULL,
    dim        TEXT NOT NULL,
    value_id   BLOB NOT NULL,
    PRIMARY KEY (account_id, dialog_id, dim, value_id)
);
