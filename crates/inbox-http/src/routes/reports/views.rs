//! The JSON documents of the reports (P1, D15), as the OpenAPI document describes them.

use chrono::NaiveDate;
use conversation_core::ports::{Breakdown, DialogBreakdown, Period};
use conversation_core::reports::DurationSummary;
use inbox_app::reports::{DialogFigures, Figures, RatingSummary};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A duration metric: count, average, median and 90th percentile, in seconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct DurationView {
    /// How many.
    pub count: u64,
    /// The average, in seconds.
    pub avg: Option<f64>,
    /// The nearest-rank median, in seconds.
    pub median: Option<u64>,
    /// The nearest-rank 90th percentile, in seconds.
    pub p90: Option<u64>,
}

impl From<&DurationSummary> for DurationView {
    fn from(s: &DurationSummary) -> Self {
        Self {
            count: s.count,
            avg: s.avg,
            median: s.median,
            p90: s.p90,
        }
    }
}

/// A rating: how many, the average, and how many of each value (1, 2, 3).
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    /// How many.
    pub count: u64,
    /// The average.
    pub avg: Option<f64>,
    /// How many ratings of 1, 2 and 3.
    pub distribution: Vec<u64>,
}

impl From<&RatingSummary> for RatingView {
    fn from(r: &RatingSummary) -> Self {
        Self {
            count: r.count,
            avg: r.avg,
            distribution: r.distribution.to_vec(),
        }
    }
}

/// How often a wrap-up reason was given.
#[derive(Debug, Serialize, ToSchema)]
pub struct WrapUpView {
    /// The reason.
    pub reason: Uuid,
    /// How often.
    pub count: u64,
}

/// P1: the figures of a row or of the total.
#[derive(Debug, Serialize, ToSchema)]
pub struct FiguresView {
    /// Conversations started.
    pub opened: u64,
    /// Resolutions.
    pub resolved: u64,
    /// Drops.
    pub dropped: u64,
    /// Reopenings.
    pub reopened: u64,
    /// First response time.
    pub first_response: DurationView,
    /// Reply time.
    pub reply: DurationView,
    /// Time to close per open episode.
    pub time_to_close: DurationView,
    /// Handle time per agent segment.
    pub handle_time: DurationView,
    /// Wrap-up reasons, most given first.
    pub wrap_up: Vec<WrapUpView>,
    /// D12: the agents' ratings of contacts.
    pub contact_rating: RatingView,
    /// D13: the contacts' satisfaction.
    pub satisfaction: RatingView,
}

impl From<&Figures> for FiguresView {
    fn from(f: &Figures) -> Self {
        Self {
            opened: f.opened,
            resolved: f.resolved,
            dropped: f.dropped,
            reopened: f.reopened,
            first_response: (&f.first_response).into(),
            reply: (&f.reply).into(),
            time_to_close: (&f.time_to_close).into(),
            handle_time: (&f.handle_time).into(),
            wrap_up: f
                .wrap_up
                .iter()
                .map(|w| WrapUpView {
                    reason: w.reason,
                    count: w.count,
                })
                .collect(),
            contact_rating: (&f.contact_rating).into(),
            satisfaction: (&f.satisfaction).into(),
        }
    }
}

/// One row of the conversation report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationRowView {
    /// The period's first day (UTC).
    pub period: NaiveDate,
    /// The breakdown's value; null without breakdown, or for no queue / no agent.
    pub key: Option<Uuid>,
    /// Its figures.
    pub figures: FiguresView,
}

/// P1: the conversation report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationReportView {
    /// The first day.
    pub from: NaiveDate,
    /// The last day.
    pub to: NaiveDate,
    /// `day`, `week` or `month`.
    #[schema(value_type = String)]
    pub group_by: Period,
    /// `inbox`, `queue`, `agent` or null.
    #[schema(value_type = Option<String>)]
    pub breakdown: Option<Breakdown>,
    /// The rows with any figure, by period then breakdown value.
    pub rows: Vec<ConversationRowView>,
    /// The whole range (the rows add up to it).
    pub total: FiguresView,
}

/// D15: the figures of a set of dialogs.
#[derive(Debug, Serialize, ToSchema)]
pub struct DialogFiguresView {
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
    /// The completed ones' average seconds spent active.
    pub avg_active_secs: Option<f64>,
    /// The completed ones' nearest-rank median seconds spent active.
    pub median_active_secs: Option<u64>,
    /// The completed ones' nearest-rank 90th percentile seconds spent active.
    pub p90_active_secs: Option<u64>,
    /// D12, D14: the agents' ratings of the contacts.
    pub contact_rating: RatingView,
    /// D13, D14: the contacts' satisfaction.
    pub satisfaction: RatingView,
}

impl From<&DialogFigures> for DialogFiguresView {
    fn from(f: &DialogFigures) -> Self {
        Self {
            dialogs: f.dialogs,
            active: f.active,
            paused: f.paused,
            completed: f.completed,
            avg_duration_secs: f.avg_duration_secs,
            median_duration_secs: f.median_duration_secs,
            p90_duration_secs: f.p90_duration_secs,
            avg_active_secs: f.avg_active_secs,
            median_active_secs: f.median_active_secs,
            p90_active_secs: f.p90_active_secs,
            contact_rating: (&f.contact_rating).into(),
            satisfaction: (&f.satisfaction).into(),
        }
    }
}

/// One row of the dialog report.
#[derive(Debug, Serialize, ToSchema)]
pub struct DialogRowView {
    /// The period's first day (UTC) of the dialogs' creation.
    pub period: NaiveDate,
    /// The breakdown's value (an id, or a status); null without breakdown or for none.
    pub key: Option<String>,
    /// Its figures.
    pub figures: DialogFiguresView,
}

/// D15: the dialog report.
#[derive(Debug, Serialize, ToSchema)]
pub struct DialogReportView {
    /// The first day.
    pub from: NaiveDate,
    /// The last day.
    pub to: NaiveDate,
    /// `day`, `week` or `month`.
    #[schema(value_type = String)]
    pub group_by: Period,
    /// `request_type`, `reason`, `component`, `agent`, `status` or null.
    #[schema(value_type = Option<String>)]
    pub breakdown: Option<DialogBreakdown>,
    /// The rows, by period then breakdown value.
    pub rows: Vec<DialogRowView>,
    /// The whole range, every dialog once.
    pub total: DialogFiguresView,
}
