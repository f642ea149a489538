-- P1, D14, D15: reports folded from the event log (src/reports*.rs, docs/reports.md).
-- Append-only, like every migration. The same file, in the other dialect, is in ../sqlite.
--
-- A catch-up reads the account's events after `report_cursors.last_seq` (locked FOR UPDATE,
-- so catch-ups of one account from several processes follow one another), folds them with
-- the core's report folds, and writes the fold states, the rollups, the dialog rows and the
-- new cursor in one transaction: each event is counted exactly once.
--
-- Days are UTC day numbers (days since 1970-01-01); `week` and `month` are the day numbers of
-- the Monday and of the first of the month that hold `day`, so every period is a plain GROUP BY.
-- No inbox, queue, agent or reason is the nil UUID (NULLs are distinct in a primary key).
CREATE TABLE report_cursors (
    account_id UUID PRIMARY KEY REFERENCES accounts (id),
    last_seq   BIGINT NOT NULL
);

-- The fold state of each conversation and dialog (JSON of `ConversationFold` / `DialogFold`).
CREATE TABLE report_folds (
    account_id UUID NOT NULL,
    subject_id UUID NOT NULL,
    state      TEXT NOT NULL,
    PRIMARY KEY (account_id, subject_id)
);

-- P1: per day and combination of dimensions, how many facts of a metric and their sum.
CREATE TABLE report_rollups (
    account_id UUID NOT NULL,
    day        BIGINT NOT NULL,
    week       BIGINT NOT NULL,
    month      BIGINT NOT NULL,
    metric     TEXT NOT NULL,
    inbox_id   UUID NOT NULL,
    queue_id   UUID NOT NULL,
    agent_id   UUID NOT NULL,
    reason_id  UUID NOT NULL,
    n          BIGINT NOT NULL,
    total      BIGINT NOT NULL,
    PRIMARY KEY (account_id, day, metric, inbox_id, queue_id, agent_id, reason_id)
);

-- P1: the sparse histogram of durations and ratings per day and combination (the bucket is
-- `reports::histogram::bucket` of the value).
CREATE TABLE report_buckets (
    account_id UUID NOT NULL,
    day        BIGINT NOT NULL,
    week       BIGINT NOT NULL,
    month      BIGINT NOT NULL,
    metric     TEXT NOT NULL,
    inbox_id   UUID NOT NULL,
    queue_id   UUID NOT NULL,
    agent_id   UUID NOT NULL,
    bucket     BIGINT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (account_id, day, metric, inbox_id, queue_id, agent_id, bucket)
);

-- D15: one row per dialog, as it is now; `day` is its creation's.
CREATE TABLE report_dialogs (
    account_id      UUID NOT NULL,
    dialog_id       UUID NOT NULL,
    day             BIGINT NOT NULL,
    week            BIGINT NOT NULL,
    month           BIGINT NOT NULL,
    status          TEXT NOT NULL,
    request_type_id UUID NOT NULL,
    duration_secs   BIGINT,
    active_secs     BIGINT,
    contact_rating  BIGINT,
    satisfaction    BIGINT,
    PRIMARY KEY (account_id, dialog_id)
);
CREATE INDEX report_dialogs_by_day ON report_dialogs (account_id, day);

-- D15: the many-valued dimensions of a dialog now: `reason`, `component`, `agent`.
CREATE TABLE report_dialog_dims (
    account_id UUID NOT NULL,
    dialog_id  UUID NOT NULL,
    dim        TEXT NOT NULL,
    value_id   UUID NOT NULL,
    PRIMARY KEY (account_id, dialog_id, dim, value_id)
);
