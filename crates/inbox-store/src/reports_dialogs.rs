//! D15: the dialog report's query on the dialog rows that the catch-up (`reports.rs`) keeps,
//! one per dialog. One statement reads the cells (per period and breakdown value) and the
//! whole range (every dialog once, whatever the breakdown), so both come from one snapshot;
//! the completed dialogs' medians and 90th percentiles of duration and active time are picked
//! inside SQL by rank (`ROW_NUMBER() OVER (... ORDER BY duration)`), nearest-rank and exact.
//! The SQL is assembled only from fixed fragments chosen by the query; every value is bound.

use conversation_core::ports::StoreError;
use conversation_core::ports::{DialogBreakdown, DialogCell, DialogReportCells, DialogReportQuery};

use crate::error::{OrStoreError, StoreResult};
use crate::reports_query::{Binds, period_column};
use crate::sql::{Db, Row};

/// `AND EXISTS` one many-valued dimension of the dialog.
fn has_dim(dim: &str, mark: &str) -> String {
    format!(
        " AND EXISTS (SELECT 1 FROM report_dialog_dims f WHERE f.account_id = d.account_id \
         AND f.dialog_id = d.dialog_id AND f.dim = '{dim}' AND f.value_id = {mark})"
    )
}

/// The `WHERE` of a dialog report (on `report_dialogs d`).
fn dialog_where(query: &DialogReportQuery, binds: &mut Binds) -> String {
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
    filter
}

/// The nearest-rank `percent`-th percentile of `column` per group: the value whose rank (in
/// ascending order, absent values last) is the first to reach `ceil(percent / 100 × count)`.
fn percentile(column: &str, rank: &str, count: &str, percent: u8, alias: &str) -> String {
    format!(
        "MIN(CASE WHEN {column} IS NOT NULL AND {rank} * 100 >= {count} * {percent} \
         THEN {column} END) AS {alias}"
    )
}

fn opt_count(row: &Row, column: &str) -> StoreResult<Option<u64>> {
    Ok(row
        .opt_int(column)
        .store()?
        .map(|value| u64::try_from(value).unwrap_or(0)))
}

fn cell(row: &Row, key: Option<String>) -> StoreResult<DialogCell> {
    Ok(DialogCell {
        period_start: row.int("p").store()?,
        key,
        dialogs: row.count("dialogs").store()?,
        active: row.count("n_active").store()?,
        paused: row.count("n_paused").store()?,
        completed: row.count("n_completed").store()?,
        duration_sum: row.count("duration_sum").store()?,
        active_sum: row.count("active_sum").store()?,
        median_duration: opt_count(row, "median_duration")?,
        p90_duration: opt_count(row, "p90_duration")?,
        median_active: opt_count(row, "median_active")?,
        p90_active: opt_count(row, "p90_active")?,
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
    })
}

/// D15: the cells of a dialog report and its whole range.
pub async fn dialog_report(
    db: &Db,
    query: &DialogReportQuery,
) -> Result<DialogReportCells, StoreError> {
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
    let (key, null_key) = if query.breakdown.is_some() {
        (", k", ", NULL")
    } else {
        ("", "")
    };
    let mut binds = Binds(Vec::new());
    let cells_where = dialog_where(query, &mut binds);
    let whole_where = dialog_where(query, &mut binds);
    let columns = "d.status, d.duration_secs, d.active_secs, d.contact_rating, d.satisfaction";
    let count_of = |column: &str, value: &str, alias: &str| {
        format!(
            "CAST(COALESCE(SUM(CASE WHEN {column} = {value} THEN 1 ELSE 0 END), 0) AS BIGINT) AS {alias}"
        )
    };
    let partition = format!("PARTITION BY whole, p{key}");
    let sql = format!(
        "WITH base AS (SELECT CAST(0 AS BIGINT) AS whole, d.{period} AS p{key_select}, {columns} \
         FROM report_dialogs d{join} WHERE {cells_where} \
         UNION ALL SELECT 1, 0{null_key}, {columns} FROM report_dialogs d WHERE {whole_where}), \
         r AS (SELECT base.*, \
         ROW_NUMBER() OVER ({partition} ORDER BY CASE WHEN duration_secs IS NULL THEN 1 ELSE 0 END, \
         duration_secs) AS dr, COUNT(duration_secs) OVER ({partition}) AS dn, \
         ROW_NUMBER() OVER ({partition} ORDER BY CASE WHEN active_secs IS NULL THEN 1 ELSE 0 END, \
         active_secs) AS ar, COUNT(active_secs) OVER ({partition}) AS an FROM base) \
         SELECT whole, p{key}, COUNT(*) AS dialogs, {}, {}, {}, \
         CAST(COALESCE(SUM(duration_secs), 0) AS BIGINT) AS duration_sum, \
         CAST(COALESCE(SUM(active_secs), 0) AS BIGINT) AS active_sum, {}, {}, {}, {}, \
         {}, {}, {}, {}, {}, {} FROM r GROUP BY whole, p{key}",
        count_of("status", "'active'", "n_active"),
        count_of("status", "'paused'", "n_paused"),
        count_of("status", "'completed'", "n_completed"),
        percentile("duration_secs", "dr", "dn", 50, "median_duration"),
        percentile("duration_secs", "dr", "dn", 90, "p90_duration"),
        percentile("active_secs", "ar", "an", 50, "median_active"),
        percentile("active_secs", "ar", "an", 90, "p90_active"),
        count_of("contact_rating", "1", "cr1"),
        count_of("contact_rating", "2", "cr2"),
        count_of("contact_rating", "3", "cr3"),
        count_of("satisfaction", "1", "s1"),
        count_of("satisfaction", "2", "s2"),
        count_of("satisfaction", "3", "s3"),
    );
    let mut cells = Vec::new();
    let mut total = DialogCell {
        period_start: query.from_day,
        ..DialogCell::default()
    };
    for row in db.fetch_all(&sql, &binds.0).await.store()? {
        if row.int("whole").store()? == 1 {
            total = DialogCell {
                period_start: query.from_day,
                ..cell(&row, None)?
            };
            continue;
        }
        let key = match query.breakdown {
            None => None,
            Some(DialogBreakdown::Status) => Some(row.text("k").store()?),
            Some(_) => row.opt_uuid("k").store()?.map(|id| id.to_string()),
        };
        cells.push(cell(&row, key)?);
    }
    cells.sort_by(|a, b| (a.period_start, &a.key).cmp(&(b.period_start, &b.key)));
    Ok(DialogReportCells { cells, total })
}
