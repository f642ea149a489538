//! P1: the conversation report's queries on the rollups and histograms that the catch-up
//! (`reports.rs`) keeps. A report by day or week reads the daily tables; a report by month
//! reads the whole months of its range from the monthly tables (migration 0013) and only the
//! partial months at its edges from the daily ones, so a year costs its months times the
//! combinations of dimensions, not its days or events. Counts and sums are one `GROUP BY`;
//! histograms come as the edge days' buckets summed in SQL plus one row per whole month and
//! combination (`reports_histograms.rs`), merged here per cell and over the whole range, and the
//! nearest-rank medians and 90th percentiles picked from them (`histogram::percentile`); only
//! the picked values leave the store. (Picking them inside SQL with a running
//! `SUM(n) OVER (...)` was measured slower: docs/reports.md, "Benchmark".) The SQL is assembled
//! only from fixed fragments chosen by the query; every value is bound. The dialog report is in
//! `reports_dialogs.rs`.

use std::collections::{BTreeMap, HashMap};

use conversation_core::ports::{
    Breakdown, ConversationReportCells, ConversationReportQuery, Period, RollupCell, SpreadCell,
    StoreError,
};
use conversation_core::reports::{Metric, histogram};
use uuid::Uuid;

use crate::error::{OrStoreError, StoreResult};
use crate::reports_histograms::{Counts, add_counts};
use crate::sql::{Arg, Db, Row};

/// A cell's period, breakdown value and metric.
type CellKey = (i64, Option<Uuid>, Metric);

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

/// The months a report by month reads from the monthly tables, `[lo, hi)` as day numbers of
/// months' first days: its whole months, and each edge month of which fewer days lie outside
/// the range than inside (those outside are then read from the daily tables and subtracted,
/// so a range ending today reads its current month from one monthly row per combination).
/// `None`: no whole month, everything is read from the daily tables.
pub(crate) fn monthly_span(from: i64, to: i64) -> Option<(i64, i64)> {
    let (first, end) = whole_months(from, to)?;
    let mut lo = first;
    if first != from {
        let head = Period::Month.start_of(from);
        if from - head < first - from {
            lo = head;
        }
    }
    let mut hi = end;
    if end != to + 1 {
        let next = next_month(end);
        if next - 1 - to < to - end + 1 {
            hi = next;
        }
    }
    Some((lo, hi))
}

/// The monthly span of a query (by month only).
fn span(query: &ConversationReportQuery) -> Option<(i64, i64)> {
    match query.period {
        Period::Month => monthly_span(query.from_day, query.to_day),
        Period::Day | Period::Week => None,
    }
}

/// The `WHERE` of the daily tables over the days the monthly span does not cover.
fn daily_where(query: &ConversationReportQuery, binds: &mut Binds) -> String {
    let mut daily = format!(
        "account_id = {} AND day >= {} AND day <= {}",
        binds.push(query.account),
        binds.push(query.from_day),
        binds.push(query.to_day)
    );
    if let Some((lo, hi)) = span(query) {
        daily += &format!(
            " AND (day < {} OR day >= {})",
            binds.push(lo),
            binds.push(hi)
        );
    }
    daily + &dimensions(query, binds)
}

/// The `WHERE` of the monthly tables over the monthly span, if any.
fn monthly_where(query: &ConversationReportQuery, binds: &mut Binds) -> Option<String> {
    span(query).map(|(lo, hi)| {
        format!(
            "account_id = {} AND month >= {} AND month < {}{}",
            binds.push(query.account),
            binds.push(lo),
            binds.push(hi),
            dimensions(query, binds)
        )
    })
}

/// The `WHERE` of the daily tables over the days of the span outside the range (to
/// subtract), if any.
fn outside_where(query: &ConversationReportQuery, binds: &mut Binds) -> Option<String> {
    span(query)
        .filter(|(lo, hi)| *lo < query.from_day || *hi > query.to_day + 1)
        .map(|(lo, hi)| {
            format!(
                "account_id = {} AND day >= {} AND day < {} AND (day < {} OR day > {}){}",
                binds.push(query.account),
                binds.push(lo),
                binds.push(hi),
                binds.push(query.from_day),
                binds.push(query.to_day),
                dimensions(query, binds)
            )
        })
}

fn metric(row: &Row) -> StoreResult<Metric> {
    let name = row.text("metric").store()?;
    Metric::parse(&name)
        .ok_or_else(|| StoreError::Internal(format!("unknown report metric {name:?}").into()))
}

/// The spread of a histogram: nearest-rank median and 90th percentile
/// (`histogram::percentile`), and how many facts had the values 1, 2, 3.
fn spread(period_start: i64, key: Option<Uuid>, metric: Metric, counts: &Counts) -> SpreadCell {
    let pairs: Vec<(u64, u64)> = counts.iter().map(|(b, n)| (*b, *n)).collect();
    let low = |value: u64| counts.get(&value).copied().unwrap_or(0);
    SpreadCell {
        period_start,
        key,
        metric,
        median: histogram::percentile(&pairs, 50),
        p90: histogram::percentile(&pairs, 90),
        low_values: [low(1), low(2), low(3)],
    }
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
    let daily = daily_where(query, &mut binds);
    let monthly = monthly_where(query, &mut binds);
    let outside = outside_where(query, &mut binds);
    let columns = format!("{period} AS p{key_select}, metric, reason_id, n, total");
    let mut from = format!("SELECT {columns} FROM report_rollups WHERE {daily}");
    if let Some(monthly) = &monthly {
        from += &format!(" UNION ALL SELECT {columns} FROM report_rollups_monthly WHERE {monthly}");
    }
    if let Some(outside) = &outside {
        from += &format!(
            " UNION ALL SELECT {period} AS p{key_select}, metric, reason_id, -n AS n, \
             -total AS total FROM report_rollups WHERE {outside}"
        );
    }
    let sql = format!(
        "SELECT p{key_group}, metric, reason_id, CAST(SUM(n) AS BIGINT) AS n, \
         CAST(SUM(total) AS BIGINT) AS total FROM ({from}) s \
         GROUP BY p{key_group}, metric, reason_id HAVING SUM(n) <> 0"
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

    // The histograms: the edge days' buckets summed in SQL, the whole months' one row per
    // combination, merged here per cell and over the whole range.
    let mut cell_counts: HashMap<CellKey, Counts> = HashMap::new();
    let mut total_counts: BTreeMap<Metric, Counts> = BTreeMap::new();
    let mut add = |cell: CellKey, bucket: u64, n: u64| {
        *total_counts
            .entry(cell.2)
            .or_default()
            .entry(bucket)
            .or_default() += n;
        *cell_counts
            .entry(cell)
            .or_default()
            .entry(bucket)
            .or_default() += n;
    };
    // Each statement binds exactly its own values (a prepared statement is cached by its text).
    let buckets_of = |filter: &str| {
        format!(
            "SELECT {period} AS p{key_select}, metric, bucket, CAST(SUM(n) AS BIGINT) AS n \
             FROM report_buckets WHERE {filter} GROUP BY p{key_group}, metric, bucket"
        )
    };
    let mut binds = Binds(Vec::new());
    let daily = daily_where(query, &mut binds);
    for row in db.fetch_all(&buckets_of(&daily), &binds.0).await.store()? {
        let cell = (row.int("p").store()?, read_key(&row)?, metric(&row)?);
        add(cell, row.count("bucket").store()?, row.count("n").store()?);
    }
    let mut binds = Binds(Vec::new());
    if let Some(monthly) = monthly_where(query, &mut binds) {
        let sql = format!(
            "SELECT month AS p{key_select}, metric, counts FROM report_histograms_monthly \
             WHERE {monthly}"
        );
        for row in db.fetch_all(&sql, &binds.0).await.store()? {
            let cell = (row.int("p").store()?, read_key(&row)?, metric(&row)?);
            let mut counts = Counts::new();
            add_counts(&row.text("counts").store()?, &mut counts)?;
            for (bucket, n) in counts {
                add(cell, bucket, n);
            }
        }
    }
    let mut binds = Binds(Vec::new());
    if let Some(outside) = outside_where(query, &mut binds) {
        // The days of an edge month outside the range, read from its monthly row: taken off.
        // (Read after the monthly rows: a catch-up in between can only make this more, so
        // the subtraction saturates at zero.)
        for row in db
            .fetch_all(&buckets_of(&outside), &binds.0)
            .await
            .store()?
        {
            let cell = (row.int("p").store()?, read_key(&row)?, metric(&row)?);
            let (bucket, n) = (row.count("bucket").store()?, row.count("n").store()?);
            for counts in [cell_counts.get_mut(&cell), total_counts.get_mut(&cell.2)]
                .into_iter()
                .flatten()
            {
                if let Some(have) = counts.get_mut(&bucket) {
                    *have = have.saturating_sub(n);
                }
            }
        }
        for counts in cell_counts.values_mut().chain(total_counts.values_mut()) {
            counts.retain(|_, n| *n > 0);
        }
        cell_counts.retain(|_, counts| !counts.is_empty());
        total_counts.retain(|_, counts| !counts.is_empty());
    }
    let mut spreads: Vec<SpreadCell> = cell_counts
        .iter()
        .map(|((period_start, key, metric), counts)| spread(*period_start, *key, *metric, counts))
        .collect();
    spreads.sort_by_key(|s| (s.period_start, s.key, s.metric));
    let total_spreads = total_counts
        .iter()
        .map(|(metric, counts)| spread(query.from_day, None, *metric, counts))
        .collect();
    Ok(ConversationReportCells {
        cells,
        spreads,
        total_spreads,
    })
}
