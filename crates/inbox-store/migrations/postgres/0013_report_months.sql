-- P1: monthly rollups and histograms next to the daily ones of 0009 (docs/reports.md).
-- Append-only, like every migration. The same file, in the other dialect, is in ../sqlite.
--
-- The catch-up adds each chunk's facts to the daily rows AND to these, in the same
-- transaction, so a month's row always equals the sum of its days' rows. A report by month
-- reads the whole months of its range here (12 rows per combination for a year instead of
-- ~365) and only the partial months at its edges from the daily tables.
--
-- `month` is the UTC day number of the month's first day, as `report_rollups.month`.
CREATE TABLE report_rollups_monthly (
    account_id UUID NOT NULL,
    month      BIGINT NOT NULL,
    metric     TEXT NOT NULL,
    inbox_id   UUID NOT NULL,
    queue_id   UUID NOT NULL,
    agent_id   UUID NOT NULL,
    reason_id  UUID NOT NULL,
    n          BIGINT NOT NULL,
    total      BIGINT NOT NULL,
    PRIMARY KEY (account_id, month, metric, inbox_id, queue_id, agent_id, reason_id)
);

CREATE TABLE report_buckets_monthly (
    account_id UUID NOT NULL,
    month      BIGINT NOT NULL,
    metric     TEXT NOT NULL,
    inbox_id   UUID NOT NULL,
    queue_id   UUID NOT NULL,
    agent_id   UUID NOT NULL,
    bucket     BIGINT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (account_id, month, metric, inbox_id, queue_id, agent_id, bucket)
);

-- An upgraded database: the months of what is already folded, from the daily rows.
INSERT INTO report_rollups_monthly
    (account_id, month, metric, inbox_id, queue_id, agent_id, reason_id, n, total)
SELECT account_id, month, metric, inbox_id, queue_id, agent_id, reason_id,
       CAST(SUM(n) AS BIGINT), CAST(SUM(total) AS BIGINT)
FROM report_rollups
GROUP BY account_id, month, metric, inbox_id, queue_id, agent_id, reason_id;

INSERT INTO report_buckets_monthly
    (account_id, month, metric, inbox_id, queue_id, agent_id, bucket, n)
SELECT account_id, month, metric, inbox_id, queue_id, agent_id, bucket, CAST(SUM(n) AS BIGINT)
FROM report_buckets
GROUP BY account_id, month, metric, inbox_id, queue_id, agent_id, bucket;
