//! P1: the conversation report's queries on the rollups and histograms that the catch-up
//! (`reports.rs`) keeps. A report by day or week reads the daily tables; a report by month
//! reads the whole months of its range from the monthly tables (migration 0013) and only the
//! partial months at its edges from the daily ones, so a year costs its months times the
//! combinations of dimensions (and histogram buckets), not its days or events. Medians and 90th
//! percentiles are picked inside SQL with a running `SUM(n) OVER (... ORDER BY bucket)`, one
//! row per cell, also for the whole range. The SQL is assembled only from fixed fragments chosen
//! by the query; every value is bound. The dialog report is in `reports_dialogs.rs`.

use conversation_core::ports::{
    Breakdown, ConversationReportCells, ConversationReportQuery, Period, RollupCell, SpreadCell,
    StoreError,
};
use conversation_core::reports::Metric;
use uuid::Uuid;

use crate::error::{OrStoreError, StoreResult};
use crate::sql::{Arg, Db, Row};

/// The column of a period's first day (the same name in the daily and monthly tables).
pub(crate) const fn period_column(period: Period) -> &'static str {
    match period {
        Period::Day => "day",
        Period::Week => "week",
        Period::Month => "month",
    }
}

fn some_key(id: Uuid) -> Option<Uuid> {
    (!id.is_nil()).then_some(id)
}

/// Bound values and the `$N` each gets.
pub(crate) struct Binds(pub(crate) Vec<Arg>);

impl Binds {
    pub(crate) fn push(&mut self, value: impl Into<Arg>) -> String {
        self.0.push(value.into());
        format!("${}", self.0.len())
    }
}

/// The first day of the month after the one that holds `day`.
fn next_month(day: i64) -> i64 {
    // A month has at most 31 days and the next at least 28: its first + 31 is in the next.
    Period::Month.start_of(Period::Month.start_of(day) + 31)
}

/// The whole months of `[from, to]`: `[first, end)` as day numbers of months' first days, or
/// `None` when no month is whole inside the range.
pub(crate) fn whole_months(from: i64, to: i64) -> Option<(i64, i64)> {
    let first = if Period::Month.start_of(from) == from {
        from
    } else {
        next_month(from)
    };
    let end = Period::Month.start_of(to + 1);
    (first < end).then_some((first, end))
}

/// The filters on inbox, queue and agent (the same columns in every rollup table).
fn dimensions(query: &ConversationReportQuery, binds: &mut Binds) -> String {
    let mut sql = String::new();
    if let Some(inbox) = query.inbox {
        sql += &format!(" AND inbox_id = {}", binds.push(inbox));
    }
    if let Some(queue) = query.queue {
        sql += &format!(" AND queue_id = {}", binds.push(queue));
    }
    if let Some(agent) = query.agent {
        sql += &format!(" AND agent_id = {}", binds.push(agent));
    }
    sql
}

/// The rows a report reads, as one `SELECT {columns}` (or two joined by `UNION ALL`): the daily
/// table over the days that no whole month covers, and, by month, the monthly table over the
/// whole months. `columns` may name `day`, `week` or `month` only through the period.
fn sources(
    query: &ConversationReportQuery,
    binds: &mut Binds,
    daily: &str,
    monthly: &str,
    columns: &str,
) -> String {
    let months = match query.period {
        Period::Month => whole_months(query.from_day, query.to_day),
        Period::Day | Period::Week => None,
    };
    let mut sql = format!(
        "SELECT {columns} FROM {daily} WHERE account_id = {} AND day >= {} AND day <= {}",
        binds.push(query.account),
        binds.push(query.from_day),
        binds.push(query.to_day)
    );
    if let Some((first, end)) = months {
        sql += &format!(
            " AND (day < {} OR day >= {})",
            binds.push(first),
            binds.push(end)
        );
    }
    sql += &dimensions(query, binds);
    if let Some((first, end)) = months {
        sql += &format!(
            " UNION ALL SELECT {columns} FROM {monthly} WHERE account_id = {} \
             AND month >= {} AND month < {}",
            binds.push(query.account),
            binds.push(first),
            binds.push(end)
        );
        sql += &dimensions(query, binds);
    }
    sql
}

fn metric(row: &Row) -> StoreResult<Metric> {
    let name = row.text("metric").store()?;
    Metric::parse(&name)
        .ok_or_else(|| StoreError::Internal(format!("unknown report metric {name:?}").into()))
}

fn opt_count(row: &Row, column: &str) -> StoreResult<Option<u64>> {
    Ok(row
        .opt_int(column)
        .store()?
        .map(|value| u64::try_from(value).unwrap_or(0)))
}

/// The spreads: per cell (`whole` = 0) and over the whole range (`whole` = 1), the nearest-rank
/// median and 90th percentile of the summed histogram (the smallest bucket at which the running
/// count reaches `ceil(p / 100 × count)`, i.e. `running × 100 >= count × p`), and how many
/// facts had the values 1, 2, 3.
fn spread_sql(sources: &str, breakdown: bool) -> String {
    let (key, null_key) = if breakdown {
        (", k", ", NULL")
    } else {
        ("", "")
    };
    let value =
        |v: u8| format!("CAST(SUM(CASE WHEN bucket = {v} THEN n ELSE 0 END) AS BIGINT) AS v{v}");
    format!(
        "WITH g AS (SELECT p{key}, metric, bucket, SUM(n) AS n FROM ({sources}) s \
         GROUP BY p{key}, metric, bucket), \
         t AS (SELECT metric, bucket, SUM(n) AS n FROM g GROUP BY metric, bucket), \
         a AS (SELECT CAST(0 AS BIGINT) AS whole, p{key}, metric, bucket, n FROM g \
         UNION ALL SELECT 1, 0{null_key}, metric, bucket, n FROM t), \
         r AS (SELECT whole, p{key}, metric, bucket, n, \
         SUM(n) OVER (PARTITION BY whole, p{key}, metric ORDER BY bucket \
         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running, \
         SUM(n) OVER (PARTITION BY whole, p{key}, metric) AS cnt FROM a) \
         SELECT whole, p{key}, metric, \
         MIN(CASE WHEN running * 100 >= cnt * 50 THEN bucket END) AS median, \
         MIN(CASE WHEN running * 100 >= cnt * 90 THEN bucket END) AS p90, {}, {}, {} \
         FROM r GROUP BY whole, p{key}, metric",
        value(1),
        value(2),
        value(3)
    )
}

/// P1: the cells of a conversation report with their spreads, and the spreads of the range.
pub async fn conversation_report(
    db: &Db,
    query: &ConversationReportQuery,
) -> Result<ConversationReportCells, StoreError> {
    let period = period_column(query.period);
    let key = match query.breakdown {
        None => None,
        Some(Breakdown::Inbox) => Some("inbox_id"),
        Some(Breakdown::Queue) => Some("queue_id"),
        Some(Breakdown::Agent) => Some("agent_id"),
    };
    let key_select = key.map_or_else(String::new, |key| format!(", {key} AS k"));
    let key_group = key.map_or("", |_| ", k");
    let read_key = |row: &Row| -> StoreResult<Option<Uuid>> {
        key.map_or(Ok(None), |_| {
            Ok(row.opt_uuid("k").store()?.and_then(some_key))
        })
    };

    let mut binds = Binds(Vec::new());
    let from = sources(
        query,
        &mut binds,
        "report_rollups",
        "report_rollups_monthly",
        &format!("{period} AS p{key_select}, metric, reason_id, n, total"),
    );
    let sql = format!(
        "SELECT p{key_group}, metric, reason_id, CAST(SUM(n) AS BIGINT) AS n, \
         CAST(SUM(total) AS BIGINT) AS total FROM ({from}) s \
         GROUP BY p{key_group}, metric, reason_id"
    );
    let mut cells = Vec::new();
    for row in db.fetch_all(&sql, &binds.0).await.store()? {
        cells.push(RollupCell {
            period_start: row.int("p").store()?,
            key: read_key(&row)?,
            metric: metric(&row)?,
            reason: some_key(row.uuid("reason_id").store()?),
            count: row.count("n").store()?,
            sum: row.count("total").store()?,
        });
    }
    cells.sort_by(|a, b| {
        (a.period_start, a.key, a.metric, a.reason).cmp(&(
            b.period_start,
            b.key,
            b.metric,
            b.reason,
        ))
    });

    let mut binds = Binds(Vec::new());
    let from = sources(
        query,
        &mut binds,
        "report_buckets",
        "report_buckets_monthly",
        &format!("{period} AS p{key_select}, metric, bucket, n"),
    );
    let sql = spread_sql(&from, key.is_some());
    let mut spreads = Vec::new();
    let mut total_spreads = Vec::new();
    for row in db.fetch_all(&sql, &binds.0).await.store()? {
        let whole = row.int("whole").store()? == 1;
        let spread = SpreadCell {
            period_start: if whole {
                query.from_day
            } else {
                row.int("p").store()?
            },
            key: if whole { None } else { read_key(&row)? },
            metric: metric(&row)?,
            median: opt_count(&row, "median")?,
            p90: opt_count(&row, "p90")?,
            low_values: [
                row.count("v1").store()?,
                row.count("v2").store()?,
                row.count("v3").store()?,
            ],
        };
        if whole {
            total_spreads.push(spread);
        } else {
            spreads.push(spread);
        }
    }
    Ok(ConversationReportCells {
        cells,
        spreads,
        total_spreads,
    })
}
