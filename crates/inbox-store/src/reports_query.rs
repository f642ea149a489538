//! P1, D15: the report queries on the rollups and dialog rows that the catch-up
//! (`reports.rs`) keeps. Each is one or two `GROUP BY` statements over a range of the
//! `(account_id, day, ...)` primary key (or `report_dialogs_by_day`), so a year costs its days
//! and combinations, not its events. The SQL is assembled only from fixed fragments chosen by
//! the query; every value is bound.

use std::collections::HashMap;

use conversation_core::ports::{
    Breakdown, ConversationReportQuery, DialogBreakdown, DialogCell, DialogReportQuery, Period,
    RollupCell, StoreError,
};
use conversation_core::reports::Metric;
use uuid::Uuid;

use crate::error::{OrStoreError, StoreResult};
use crate::sql::{Arg, Db, Row};

const fn period_column(period: Period) -> &'static str {
    match period {
        Period::Day => "day",
        Period::Week => "week",
        Period::Month => "month",
    }
}

/// A cell's period, breakdown value and metric.
type CellKey = (i64, Option<Uuid>, Metric);

fn some_key(id: Uuid) -> Option<Uuid> {
    (!id.is_nil()).then_some(id)
}

/// Bound values and the `$N` each gets.
struct Binds(Vec<Arg>);

impl Binds {
    fn push(&mut self, value: impl Into<Arg>) -> String {
        self.0.push(value.into());
        format!("${}", self.0.len())
    }
}

/// The `WHERE` of a conversation report, shared by the rollups and the histograms.
fn conversation_where(query: &ConversationReportQuery, binds: &mut Binds) -> String {
    let mut sql = format!(
        "account_id = {} AND day >= {} AND day <= {}",
        binds.push(query.account),
        binds.push(query.from_day),
        binds.push(query.to_day)
    );
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

fn metric(row: &Row) -> StoreResult<Metric> {
    let name = row.text("metric").store()?;
    Metric::parse(&name)
        .ok_or_else(|| StoreError::Internal(format!("unknown report metric {name:?}").into()))
}

/// P1: the cells of a conversation report, each with its histogram.
pub async fn conversation_report(
    db: &Db,
    query: &ConversationReportQuery,
) -> Result<Vec<RollupCell>, StoreError> {
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
        key.map_or(Ok(None), |_| Ok(some_key(row.uuid("k").store()?)))
    };

    let mut binds = Binds(Vec::new());
    let filter = conversation_where(query, &mut binds);
    let sql = format!(
        "SELECT {period} AS period_start{key_select}, metric, reason_id, \
         CAST(SUM(n) AS BIGINT) AS n, CAST(SUM(total) AS BIGINT) AS total \
         FROM report_rollups WHERE {filter} \
         GROUP BY period_start{key_group}, metric, reason_id"
    );
    let mut cells = Vec::new();
    for row in db.fetch_all(&sql, &binds.0).await.store()? {
        cells.push(RollupCell {
            period_start: row.int("period_start").store()?,
            key: read_key(&row)?,
            metric: metric(&row)?,
            reason: some_key(row.uuid("reason_id").store()?),
            count: row.count("n").store()?,
            sum: row.count("total").store()?,
            buckets: Vec::new(),
        });
    }

    let mut binds = Binds(Vec::new());
    let filter = conversation_where(query, &mut binds);
    let sql = format!(
        "SELECT {period} AS period_start{key_select}, metric, bucket, CAST(SUM(n) AS BIGINT) AS n \
         FROM report_buckets WHERE {filter} \
         GROUP BY period_start{key_group}, metric, bucket"
    );
    let mut histograms: HashMap<CellKey, Vec<(u64, u64)>> = HashMap::new();
    for row in db.fetch_all(&sql, &binds.0).await.store()? {
        histograms
            .entry((
                row.int("period_start").store()?,
                read_key(&row)?,
                metric(&row)?,
            ))
            .or_default()
            .push((row.count("bucket").store()?, row.count("n").store()?));
    }
    for cell in &mut cells {
        if let Some(buckets) = histograms.remove(&(cell.period_start, cell.key, cell.metric)) {
            cell.buckets = buckets;
        }
    }
    cells.sort_by(|a, b| {
        (a.period_start, a.key, a.metric, a.reason).cmp(&(
            b.period_start,
            b.key,
            b.metric,
            b.reason,
        ))
    });
    Ok(cells)
}

/// `AND EXISTS` one many-valued dimension of the dialog.
fn has_dim(dim: &str, mark: &str) -> String {
    format!(
        " AND EXISTS (SELECT 1 FROM report_dialog_dims f WHERE f.account_id = d.account_id \
         AND f.dialog_id = d.dialog_id AND f.dim = '{dim}' AND f.value_id = {mark})"
    )
}

/// D15: the cells of a dialog report.
pub async fn dialog_report(
    db: &Db,
    query: &DialogReportQuery,
) -> Result<Vec<DialogCell>, StoreError> {
    let period = period_column(query.period);
    let (key_select, join) = match query.breakdown {
        None => ("", ""),
        Some(DialogBreakdown::RequestType) => (", d.request_type_id AS k", ""),
        Some(DialogBreakdown::Status) => (", d.status AS k", ""),
        Some(DialogBreakdown::Reason) => (
            ", x.value_id AS k",
            " LEFT JOIN report_dialog_dims x ON x.account_id = d.account_id \
             AND x.dialog_id = d.dialog_id AND x.dim = 'reason'",
        ),
        Some(DialogBreakdown::Component) => (
            ", x.value_id AS k",
            " LEFT JOIN report_dialog_dims x ON x.account_id = d.account_id \
             AND x.dialog_id = d.dialog_id AND x.dim = 'component'",
        ),
        Some(DialogBreakdown::Agent) => (
            ", x.value_id AS k",
            " LEFT JOIN report_dialog_dims x ON x.account_id = d.account_id \
             AND x.dialog_id = d.dialog_id AND x.dim = 'agent'",
        ),
    };
    let key_group = if query.breakdown.is_some() { ", k" } else { "" };
    let mut binds = Binds(Vec::new());
    let mut filter = format!(
        "d.account_id = {} AND d.day >= {} AND d.day <= {}",
        binds.push(query.account),
        binds.push(query.from_day),
        binds.push(query.to_day)
    );
    if let Some(request_type) = query.request_type {
        filter += &format!(
            " AND d.request_type_id = {}",
            binds.push(request_type.as_uuid())
        );
    }
    if let Some(status) = query.status {
        filter += &format!(" AND d.status = {}", binds.push(status.as_str()));
    }
    if let Some(reason) = query.reason {
        filter += &has_dim("reason", &binds.push(reason.as_uuid()));
    }
    if let Some(component) = query.component {
        filter += &has_dim("component", &binds.push(component.as_uuid()));
    }
    if let Some(agent) = query.agent {
        filter += &has_dim("agent", &binds.push(agent));
    }
    let count_of = |column: &str, value: &str, alias: &str| {
        format!(
            "CAST(COALESCE(SUM(CASE WHEN d.{column} = {value} THEN 1 ELSE 0 END), 0) AS BIGINT) AS {alias}"
        )
    };
    let sql = format!(
        "SELECT d.{period} AS period_start{key_select}, COUNT(*) AS dialogs, {}, {}, {}, \
         CAST(COALESCE(SUM(d.duration_secs), 0) AS BIGINT) AS duration_sum, \
         CAST(COALESCE(SUM(d.active_secs), 0) AS BIGINT) AS active_sum, {}, {}, {}, {}, {}, {} \
         FROM report_dialogs d{join} WHERE {filter} GROUP BY period_start{key_group}",
        count_of("status", "'active'", "n_active"),
        count_of("status", "'paused'", "n_paused"),
        count_of("status", "'completed'", "n_completed"),
        count_of("contact_rating", "1", "cr1"),
        count_of("contact_rating", "2", "cr2"),
        count_of("contact_rating", "3", "cr3"),
        count_of("satisfaction", "1", "s1"),
        count_of("satisfaction", "2", "s2"),
        count_of("satisfaction", "3", "s3"),
    );
    let mut cells = Vec::new();
    for row in db.fetch_all(&sql, &binds.0).await.store()? {
        let key = match query.breakdown {
            None => None,
            Some(DialogBreakdown::Status) => Some(row.text("k").store()?),
            Some(_) => row.opt_uuid("k").store()?.map(|id| id.to_string()),
        };
        cells.push(DialogCell {
            period_start: row.int("period_start").store()?,
            key,
            dialogs: row.count("dialogs").store()?,
            active: row.count("n_active").store()?,
            paused: row.count("n_paused").store()?,
            completed: row.count("n_completed").store()?,
            duration_sum: row.count("duration_sum").store()?,
            active_sum: row.count("active_sum").store()?,
            contact_ratings: [
                row.count("cr1").store()?,
                row.count("cr2").store()?,
                row.count("cr3").store()?,
            ],
            satisfaction: [
                row.count("s1").store()?,
                row.count("s2").store()?,
                row.count("s3").store()?,
            ],
        });
    }
    cells.sort_by(|a, b| (a.period_start, &a.key).cmp(&(b.period_start, &b.key)));
    Ok(cells)
}
