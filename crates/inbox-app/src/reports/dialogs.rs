//! D14, D15: the dialog report: dialogs created per period (and breakdown value: request type,
//! reason, component, agent or status), how many are active, paused and completed, the
//! completed ones' duration and active time (average, median, 90th percentile), and both ratings, with a total over the
//! range. A dialog with several reasons (components, agents) is in the row of each, so only the
//! single-valued breakdowns (request type, status) add up to the total.

use chrono::NaiveDate;
use conversation_core::dialog::DialogStatusKind;
use conversation_core::ids::{AgentId, ComponentId, ReasonId, RequestTypeId};
use conversation_core::ports::{DialogBreakdown, DialogCell, DialogReportQuery, date_of};
use serde::Serialize;

use super::conversations::RatingSummary;
use super::{ReportRange, report_scope};
use crate::app::App;
use crate::caller::Caller;
use crate::error::AppResult;

/// What a dialog report is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialogReportRequest {
    /// The days (of creation) and their grouping.
    pub range: ReportRange,
    /// Only this request type.
    pub request_type: Option<RequestTypeId>,
    /// Only dialogs with this reason.
    pub reason: Option<ReasonId>,
    /// Only dialogs with this component.
    pub component: Option<ComponentId>,
    /// Only dialogs this agent participates in.
    pub agent: Option<AgentId>,
    /// Only dialogs in this status.
    pub status: Option<DialogStatusKind>,
    /// The breakdown.
    pub breakdown: Option<DialogBreakdown>,
}

/// The figures of a set of dialogs.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DialogFigures {
    /// Dialogs created.
    pub dialogs: u64,
    /// Of them, active now.
    pub active: u64,
    /// Of them, paused now.
    pub paused: u64,
    /// Of them, completed.
    pub completed: u64,
    /// The completed ones' average seconds from creation to completion.
    pub avg_duration_secs: Option<f64>,
    /// The completed ones' nearest-rank median seconds from creation to completion.
    pub median_duration_secs: Option<u64>,
    /// The completed ones' nearest-rank 90th percentile seconds from creation to completion.
    pub p90_duration_secs: Option<u64>,
    /// The completed ones' average seconds spent active (pauses excluded).
    pub avg_active_secs: Option<f64>,
    /// The completed ones' nearest-rank median seconds spent active.
    pub median_active_secs: Option<u64>,
    /// The completed ones' nearest-rank 90th percentile seconds spent active.
    pub p90_active_secs: Option<u64>,
    /// D12, D14: the agents' ratings of the contacts.
    pub contact_rating: RatingSummary,
    /// D13, D14: the contacts' satisfaction.
    pub satisfaction: RatingSummary,
}

/// One row: a period, and a breakdown value when one was asked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DialogReportRow {
    /// The period's first day.
    pub period: NaiveDate,
    /// The breakdown's value (an id, or a status); `None` without breakdown or for dialogs
    /// with none.
    pub key: Option<String>,
    /// Its figures.
    pub figures: DialogFigures,
}

/// A dialog report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DialogReport {
    /// The rows, by period then breakdown value.
    pub rows: Vec<DialogReportRow>,
    /// The whole range: every dialog once, whatever the breakdown.
    pub total: DialogFigures,
}

#[expect(
    clippy::cast_precision_loss,
    reason = "an average is a float; counts and sums stay far below 2^52"
)]
fn average(sum: u64, count: u64) -> Option<f64> {
    (count > 0).then(|| sum as f64 / count as f64)
}

fn rating(counts: [u64; 3]) -> RatingSummary {
    let count = counts.iter().sum();
    let points = counts[0] + 2 * counts[1] + 3 * counts[2];
    RatingSummary {
        count,
        avg: average(points, count),
        distribution: counts,
    }
}

fn figures(cell: &DialogCell) -> DialogFigures {
    DialogFigures {
        dialogs: cell.dialogs,
        active: cell.active,
        paused: cell.paused,
        completed: cell.completed,
        avg_duration_secs: average(cell.duration_sum, cell.completed),
        median_duration_secs: cell.median_duration,
        p90_duration_secs: cell.p90_duration,
        avg_active_secs: average(cell.active_sum, cell.completed),
        median_active_secs: cell.median_active,
        p90_active_secs: cell.p90_active,
        contact_rating: rating(cell.contact_ratings),
        satisfaction: rating(cell.satisfaction),
    }
}

impl App {
    /// D15: the dialog report, current with the event log.
    ///
    /// # Errors
    /// `bad_request` for a bad range; `forbidden` for a plain agent naming another agent;
    /// `not_found` for a widget visitor.
    pub async fn dialog_report(
        &self,
        caller: &Caller,
        request: &DialogReportRequest,
    ) -> AppResult<DialogReport> {
        let (account, agent) = report_scope(caller, request.agent)?;
        let (from_day, to_day) = request.range.days()?;
        self.store.catch_up_reports(account).await?;
        let query = DialogReportQuery {
            account,
            from_day,
            to_day,
            period: request.range.period,
            request_type: request.request_type,
            reason: request.reason,
            component: request.component,
            agent,
            status: request.status,
            breakdown: request.breakdown,
        };
        // One statement reads the cells and the whole range (every dialog once).
        let cells = self.store.dialog_report(&query).await?;
        Ok(DialogReport {
            rows: cells
                .cells
                .iter()
                .map(|cell| DialogReportRow {
                    period: date_of(cell.period_start),
                    key: cell.key.clone(),
                    figures: figures(cell),
                })
                .collect(),
            total: figures(&cells.total),
        })
    }
}
