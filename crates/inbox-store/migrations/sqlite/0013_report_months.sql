-- P1: monthly rollups and histograms next to the daily ones of 0009 (docs/reports.md).
-- Append-only, like every migration. The same file, in the other dialect, is in ../postgres.
--
-- The catch-up adds each chunk's facts to the daily rows AND to these, in the same
-- transaction, so a month's rows always equal the sum of its days' rows. A report by month
-- reads the whole months of its range here (12 rows per combination for a year instead of
-- ~365) and only the partial months at its edges from the daily tables.
--
-- `month` is the UTC day number of the month's first day, as `report_rollups.month`.
CREATE TABLE report_rollups_monthly (
    account_id BLOB NOT NULL,
    month      INTEGER NOT NULL,
    metric     TEXT NOT NULL,
    inbox_id   BLOB NOT NULL,
    queue_id   BLOB NOT NULL,
    agent_id   BLOB NOT NULL,
    reason_id  BLOB NOT NULL,
    n          INTEGER NOT NULL,
    total      INTEGER NOT NULL,
    PRIMARY KEY (account_id, month, metric, inbox_id, queue_id, agent_id, reason_id)
);

-- A month's whole histogram of a metric and combination in one row: `counts` is the sparse
-- histogram as `bucket:n` pairs joined by `,` (in any order; the catch-up writes them by
-- bucket). One row per combination, not one per bucket: at a few dozen facts per month and
-- combination nearly every fact has a bucket of its own, so bucket rows would be as many as
-- the facts (docs/reports.md, "Benchmark").
CREATE TABLE report_histograms_monthly (
    account_id BLOB NOT NULL,
    month      INTEGER NOT NULL,
    metric     TEXT NOT NULL,
    inbox_id   BLOB NOT NULL,
    queue_id   BLOB NOT NULL,
    agent_id   BLOB NOT NULL,
    counts     TEXT NOT NULL,
    PRIMARY KEY (account_id, month, metric, inbox_id, queue_id, agent_id)
);

-- An upgraded database: the months of what is already folded, from the daily rows.
INSERT INTO report_rollups_monthly
    (account_id, month, metric, inbox_id, queue_id, agent_id, reason_id, n, total)
SELECT account_id, month, metric, inbox_id, queue_id, agent_id, reason_id,
       CAST(SUM(n) AS INTEGER), CAST(SUM(total) AS INTEGER)
FROM report_rollups
GROUP BY account_id, month, metric, inbox_id, queue_id, agent_id, reason_id;

INSERT INTO report_histograms_monthly
    (account_id, month, metric, inbox_id, queue_id, agent_id, counts)
SELECT account_id, month, metric, inbox_id, queue_id, agent_id,
       group_concat(bucket || ':' || n, ',')
FROM (SELECT account_id, month, metric, inbox_id, queue_id, agent_id, bucket,
             CAST(SUM(n) AS INTEGER) AS n
      FROM report_buckets
GROUP BY account_id, month, metric, inbox_id, queue_id, agent_id, bucket) b
GROUP BY account_id, month, metric, inbox_id, queue_id, agent_id;
