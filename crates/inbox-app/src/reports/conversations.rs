//! P1: the conversation report: per period (and breakdown value) the counts, the duration
//! metrics with average, median and 90th percentile, the wrap-up reasons and both ratings, and
//! a total over the whole range merged from the same cells (so the rows add up to it).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use conversation_core::ids::{AgentId, InboxId, QueueId};
use conversation_core::ports::{
    Breakdown, ConversationReportQuery, RollupCell, SpreadCell, date_of,
};
use conversation_core::reports::{DurationSummary, Metric};
use serde::Serialize;
use uuid::Uuid;

use super::{ReportRange, report_scope};
use crate::app::App;
use crate::caller::Caller;
use crate::error::AppResult;

/// What a conversation report is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationReportRequest {
    /// The days and their grouping.
    pub range: ReportRange,
    /// Only this inbox.
    pub inbox: Option<InboxId>,
    /// Only this queue.
    pub queue: Option<QueueId>,
    /// Only figures credited to this agent.
    pub agent: Option<AgentId>,
    /// The breakdown.
    pub breakdown: Option<Breakdown>,
}

/// How often a wrap-up reason was given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WrapUpCount {
    /// The reason.
    pub reason: Uuid,
    /// How often.
    pub count: u64,
}

/// A rating metric: how many, the average and how many of each value (1, 2, 3).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RatingSummary {
    /// How many ratings.
    pub count: u64,
    /// Their average.
    pub avg: Option<f64>,
    /// How many ratings of 1, 2 and 3.
    pub distribution: [u64; 3],
}

/// The figures of one cell of the report (or its total).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Conversations started.
    pub opened: u64,
    /// Resolutions.
    pub resolved: u64,
    /// Drops (C6).
    pub dropped: u64,
    /// Reopenings.
    pub reopened: u64,
    /// First response time.
    pub first_response: DurationSummary,
    /// Reply time.
    pub reply: DurationSummary,
    /// Time to close, per open episode.
    pub time_to_close: DurationSummary,
    /// Handle time, per agent segment.
    pub handle_time: DurationSummary,
    /// Wrap-up reasons, most given first.
    pub wrap_up: Vec<WrapUpCount>,
    /// D12: the agents' ratings of contacts.
    pub contact_rating: RatingSummary,
    /// D13: the contacts' satisfaction.
    pub satisfaction: RatingSummary,
}

/// One row: a period, and a breakdown value when one was asked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConversationReportRow {
    /// The period's first day.
    pub period: NaiveDate,
    /// The breakdown's value (`None`: no breakdown, or no queue / no agent).
    pub key: Option<Uuid>,
    /// Its figures.
    pub figures: Figures,
}

/// A conversation report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConversationReport {
    /// The rows with any figure, by period then breakdown value.
    pub rows: Vec<ConversationReportRow>,
    /// The whole range.
    pub total: Figures,
}

/// Cells merged into one set of figures, with the spreads the store picked for them.
#[derive(Default)]
struct Merge {
    counts: BTreeMap<Metric, (u64, u64)>,
    spreads: BTreeMap<Metric, SpreadCell>,
    wrap_ups: BTreeMap<Uuid, u64>,
}

impl Merge {
    fn add(&mut self, cell: &RollupCell) {
        let entry = self.counts.entry(cell.metric).or_default();
        entry.0 += cell.count;
        entry.1 += cell.sum;
        if let (Metric::WrapUp, Some(reason)) = (cell.metric, cell.reason) {
            *self.wrap_ups.entry(reason).or_default() += cell.count;
        }
    }

    fn spread(&mut self, spread: &SpreadCell) {
        self.spreads.insert(spread.metric, spread.clone());
    }

    fn count(&self, metric: Metric) -> u64 {
        self.counts.get(&metric).map_or(0, |c| c.0)
    }

    fn duration(&self, metric: Metric) -> DurationSummary {
        let (count, sum) = self.counts.get(&metric).copied().unwrap_or_default();
        let spread = self.spreads.get(&metric);
        DurationSummary::with(
            count,
            sum,
            spread.and_then(|s| s.median),
            spread.and_then(|s| s.p90),
        )
    }

    fn rating(&self, metric: Metric) -> RatingSummary {
        let summary = self.duration(metric);
        RatingSummary {
            count: summary.count,
            avg: summary.avg,
            distribution: self.spreads.get(&metric).map_or([0; 3], |s| s.low_values),
        }
    }

    fn figures(&self) -> Figures {
        let mut wrap_up: Vec<WrapUpCount> = self
            .wrap_ups
            .iter()
            .map(|(reason, count)| WrapUpCount {
                reason: *reason,
                count: *count,
            })
            .collect();
        wrap_up.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
        Figures {
            opened: self.count(Metric::Opened),
            resolved: self.count(Metric::Resolved),
            dropped: self.count(Metric::Dropped),
            reopened: self.count(Metric::Reopened),
            first_response: self.duration(Metric::FirstResponse),
            reply: self.duration(Metric::Reply),
            time_to_close: self.duration(Metric::TimeToClose),
            handle_time: self.duration(Metric::HandleTime),
            wrap_up,
            contact_rating: self.rating(Metric::ContactRating),
            satisfaction: self.rating(Metric::Satisfaction),
        }
    }
}

impl App {
    /// P1: the conversation report, current with the event log.
    ///
    /// # Errors
    /// `bad_request` for a bad range; `forbidden` for a plain agent naming another agent;
    /// `not_found` for a widget visitor.
    pub async fn conversation_report(
        &self,
        caller: &Caller,
        request: &ConversationReportRequest,
    ) -> AppResult<ConversationReport> {
        let (account, agent) = report_scope(caller, request.agent)?;
        let (from_day, to_day) = request.range.days()?;
        self.store.catch_up_reports(account).await?;
        let cells = self
            .store
            .conversation_report(&ConversationReportQuery {
                account,
                from_day,
                to_day,
                period: request.range.period,
                inbox: request.inbox,
                queue: request.queue,
                agent,
                breakdown: request.breakdown,
            })
            .await?;
        let mut total = Merge::default();
        let mut rows: BTreeMap<(i64, Option<Uuid>), Merge> = BTreeMap::new();
        for cell in &cells.cells {
            total.add(cell);
            rows.entry((cell.period_start, cell.key))
                .or_default()
                .add(cell);
        }
        for spread in &cells.spreads {
            rows.entry((spread.period_start, spread.key))
                .or_default()
                .spread(spread);
        }
        for spread in &cells.total_spreads {
            total.spread(spread);
        }
        Ok(ConversationReport {
            rows: rows
                .into_iter()
                .map(|((period, key), merge)| ConversationReportRow {
                    period: date_of(period),
                    key,
                    figures: merge.figures(),
                })
                .collect(),
            total: total.figures(),
        })
    }
}
