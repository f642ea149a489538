//! P1, D15: the report store. [`ReportStore::catch_up_reports`] folds the account's event log,
//! after a stored cursor, with the core's report folds ([`crate::reports`]) into daily rollups
//! and dialog rows, writing the new fold states, rollups and cursor in one transaction, so
//! every event is counted exactly once, also after a crash and with several processes. The
//! queries read only those rollups and rows, so a year of a busy account costs its number of
//! days and combinations, not its number of events.

use async_trait::async_trait;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::commit::StoreError;
use crate::dialog::DialogStatusKind;
use crate::ids::{AccountId, AgentId, ComponentId, InboxId, QueueId, ReasonId, RequestTypeId};
use crate::reports::Metric;

/// How report rows are grouped in time (UTC days).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// One UTC day.
    Day,
    /// Monday to Sunday (ISO weeks).
    Week,
    /// A calendar month.
    Month,
}

impl Period {
    /// The first day of the period that holds `day` (UTC day numbers): the day itself, the
    /// Monday of its week, or the first of its month.
    #[must_use]
    pub fn start_of(self, day: i64) -> i64 {
        match self {
            Self::Day => day,
            // 1970-01-01 was a Thursday: day 4 is the first Monday, day -3 the one before.
            Self::Week => day - (day + 3).rem_euclid(7),
            Self::Month => {
                let date = date_of(day);
                day - i64::from(date.day0())
            }
        }
    }
}

/// The calendar date of a UTC day number.
#[must_use]
pub fn date_of(day: i64) -> NaiveDate {
    NaiveDate::default()
        .checked_add_signed(chrono::Duration::days(day))
        .unwrap_or_default()
}

/// The UTC day number of a calendar date.
#[must_use]
pub fn day_of(date: NaiveDate) -> i64 {
    date.signed_duration_since(NaiveDate::default()).num_days()
}

/// The dimension a conversation report is broken down by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Breakdown {
    /// Per inbox.
    Inbox,
    /// Per queue (no queue is its own row).
    Queue,
    /// Per agent credited (no agent is its own row).
    Agent,
}

/// What a conversation report covers. Days are UTC day numbers (days since 1970-01-01), both
/// ends included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationReportQuery {
    /// The account.
    pub account: AccountId,
    /// The first day.
    pub from_day: i64,
    /// The last day.
    pub to_day: i64,
    /// The grouping in time.
    pub period: Period,
    /// Only this inbox.
    pub inbox: Option<InboxId>,
    /// Only this queue.
    pub queue: Option<QueueId>,
    /// Only facts credited to this agent.
    pub agent: Option<AgentId>,
    /// The breakdown, if any.
    pub breakdown: Option<Breakdown>,
}

/// One rolled-up cell of a conversation report: a metric in a period (and breakdown value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollupCell {
    /// The period's first day (UTC day number).
    pub period_start: i64,
    /// The breakdown's value (`None`: no breakdown asked, or no queue / no agent).
    pub key: Option<Uuid>,
    /// The metric.
    pub metric: Metric,
    /// The wrap-up reason ([`Metric::WrapUp`] only).
    pub reason: Option<Uuid>,
    /// How many facts.
    pub count: u64,
    /// The sum of their values (seconds, or rating points).
    pub sum: u64,
}

/// The spread of a duration or rating metric in a period (and breakdown value), picked by the
/// store from the histogram (nearest rank, `reports::histogram`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpreadCell {
    /// The period's first day (UTC day number); the range's first day for a total.
    pub period_start: i64,
    /// The breakdown's value (`None`: no breakdown, no queue / no agent, or a total).
    pub key: Option<Uuid>,
    /// The metric.
    pub metric: Metric,
    /// The nearest-rank median.
    pub median: Option<u64>,
    /// The nearest-rank 90th percentile.
    pub p90: Option<u64>,
    /// How many facts had the value 1, 2 and 3 (what a rating's distribution needs).
    pub low_values: [u64; 3],
}

/// What the store answers for a conversation report: the counts and sums per cell, the
/// spreads per cell, and the spreads over the whole range (which cannot be merged from the
/// cells' spreads).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConversationReportCells {
    /// Counts and sums per period, breakdown value, metric and wrap-up reason.
    pub cells: Vec<RollupCell>,
    /// Medians, 90th percentiles and low values per period, breakdown value and metric.
    pub spreads: Vec<SpreadCell>,
    /// The same per metric over the whole range and every breakdown value.
    pub total_spreads: Vec<SpreadCell>,
}

/// The dimension a dialog report is broken down by (D15).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DialogBreakdown {
    /// Per request type.
    RequestType,
    /// Per reason (a dialog with several reasons is in each; none is its own row).
    Reason,
    /// Per component (like reasons).
    Component,
    /// Per participating agent (like reasons).
    Agent,
    /// Per status.
    Status,
}

/// What a dialog report covers: dialogs created in the days, both ends included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialogReportQuery {
    /// The account.
    pub account: AccountId,
    /// The first day.
    pub from_day: i64,
    /// The last day.
    pub to_day: i64,
    /// The grouping in time.
    pub period: Period,
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
    /// The breakdown, if any.
    pub breakdown: Option<DialogBreakdown>,
}

/// One cell of a dialog report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DialogCell {
    /// The period's first day (UTC day number).
    pub period_start: i64,
    /// The breakdown's value: an id (request type, reason, component, agent) or a status name;
    /// `None` without breakdown or for dialogs with none.
    pub key: Option<String>,
    /// Dialogs created.
    pub dialogs: u64,
    /// Of them, active now.
    pub active: u64,
    /// Of them, paused now.
    pub paused: u64,
    /// Of them, completed.
    pub completed: u64,
    /// The sum of the completed dialogs' durations (creation to completion), in seconds.
    pub duration_sum: u64,
    /// The sum of the completed dialogs' active time, in seconds.
    pub active_sum: u64,
    /// The completed dialogs' nearest-rank median duration, in seconds.
    pub median_duration: Option<u64>,
    /// The completed dialogs' nearest-rank 90th percentile duration, in seconds.
    pub p90_duration: Option<u64>,
    /// The completed dialogs' nearest-rank median active time, in seconds.
    pub median_active: Option<u64>,
    /// The completed dialogs' nearest-rank 90th percentile active time, in seconds.
    pub p90_active: Option<u64>,
    /// D12: how many dialogs were rated 1, 2, 3 stars by the agent.
    pub contact_ratings: [u64; 3],
    /// D13: how many contacts answered 1, 2, 3.
    pub satisfaction: [u64; 3],
}

/// What the store answers for a dialog report: the cells, and the whole range with every
/// dialog once (read by the same statement, so they agree).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DialogReportCells {
    /// Per period and breakdown value.
    pub cells: Vec<DialogCell>,
    /// The whole range, every dialog once whatever the breakdown (`period_start` is the
    /// range's first day, `key` is `None`).
    pub total: DialogCell,
}

/// Folds the event log into reports and reads them.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Folds every event of the account after the stored cursor, in chunks; each chunk's fold
    /// states, rollups, dialog rows and new cursor are written in one transaction, and
    /// concurrent catch-ups of one account (any process) wait for one another, so each event
    /// is counted once. Returns how many events were folded.
    ///
    /// # Errors
    /// Only for storage failures (nothing of the failed chunk is kept).
    async fn catch_up_reports(&self, account: AccountId) -> Result<u64, StoreError>;

    /// The accounts whose event log has events the catch-up has not folded yet (what the
    /// periodic catch-up works through).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn report_accounts_behind(&self) -> Result<Vec<AccountId>, StoreError>;

    /// P1: the rolled-up cells of a conversation report (what is folded so far).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn conversation_report(
        &self,
        query: &ConversationReportQuery,
    ) -> Result<ConversationReportCells, StoreError>;

    /// D15: the cells of a dialog report (what is folded so far).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn dialog_report(
        &self,
        query: &DialogReportQuery,
    ) -> Result<DialogReportCells, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p1_periods_start_on_the_day_the_monday_and_the_first_of_the_month() {
        let day = day_of(NaiveDate::from_ymd_opt(2026, 11, 19).unwrap()); // a Thursday
        assert_eq!(date_of(day), NaiveDate::from_ymd_opt(2026, 11, 19).unwrap());
        assert_eq!(Period::Day.start_of(day), day);
        assert_eq!(
            date_of(Period::Week.start_of(day)),
            NaiveDate::from_ymd_opt(2026, 11, 16).unwrap()
        );
        assert_eq!(
            date_of(Period::Month.start_of(day)),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
        );
        // A Monday is its own week's start; days before 1970 work too.
        let monday = day_of(NaiveDate::from_ymd_opt(1969, 12, 29).unwrap());
        assert_eq!(Period::Week.start_of(monday), monday);
        assert_eq!(Period::Week.start_of(monday + 6), monday);
    }
}
