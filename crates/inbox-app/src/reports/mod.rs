//! P1, D14, D15: the report use cases. Each first brings the account's report rollups up to
//! date with the event log (`ReportStore::catch_up_reports`: every report is current; the
//! periodic [`ReportWorker`] keeps that catch-up short), then
//! reads the rollups and shapes them into rows per period and breakdown value plus a total.
//!
//! Who may read reports (`docs/reports.md`), as Chatwoot (reports for administrators) and
//! Rocket.Chat (`view-livechat-analytics` for managers) do, with room for agents to see their
//! own work: owners, admins, agents with full access and integrations (API tokens) read every
//! figure of the account; a plain agent reads only figures credited to themselves (the `agent`
//! filter is set to them; naming another agent is `forbidden`); widget visitors get
//! `not_found`. Nothing of another account is ever read (A1: every query is the caller's
//! account).

mod conversations;
mod dialogs;
mod worker;

use chrono::NaiveDate;
use conversation_core::DomainError;
use conversation_core::ids::{AccountId, AgentId};
use conversation_core::permissions::can_see_all;
use conversation_core::ports::{Period, day_of};

use crate::caller::Caller;
use crate::error::{AppError, AppResult};

pub use conversations::{
    ConversationReport, ConversationReportRequest, ConversationReportRow, Figures, RatingSummary,
    WrapUpCount,
};
pub use dialogs::{DialogFigures, DialogReport, DialogReportRequest, DialogReportRow};
pub use worker::ReportWorker;

/// The longest range a report covers, in days (three years).
pub const MAX_REPORT_DAYS: i64 = 3 * 366;

/// The days a report covers (UTC, both ends included) and how they are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportRange {
    /// The first day.
    pub from: NaiveDate,
    /// The last day.
    pub to: NaiveDate,
    /// The grouping.
    pub period: Period,
}

impl ReportRange {
    /// The range as UTC day numbers, checked.
    ///
    /// # Errors
    /// `bad_request` when `from` is after `to` or the range is longer than
    /// [`MAX_REPORT_DAYS`].
    pub fn days(&self) -> AppResult<(i64, i64)> {
        let (from, to) = (day_of(self.from), day_of(self.to));
        if from > to {
            return Err(AppError::BadRequest(format!(
                "from ({}) is after to ({}): send from <= to",
                self.from, self.to
            )));
        }
        if to - from + 1 > MAX_REPORT_DAYS {
            return Err(AppError::BadRequest(format!(
                "the range has {} days; a report covers at most {MAX_REPORT_DAYS}: send a shorter range",
                to - from + 1
            )));
        }
        Ok((from, to))
    }
}

/// The caller's account and the agent filter they get: their own for a plain agent, what they
/// asked for otherwise.
///
/// # Errors
/// `not_found` for a widget visitor; `forbidden` for a plain agent naming another agent.
pub fn report_scope(
    caller: &Caller,
    asked: Option<AgentId>,
) -> AppResult<(AccountId, Option<AgentId>)> {
    match caller {
        Caller::Integration { account } => Ok((*account, asked)),
        Caller::Visitor { .. } => Err(DomainError::NotFound.into()),
        Caller::Agent { account, principal } => {
            if can_see_all(principal) {
                return Ok((*account, asked));
            }
            match asked {
                Some(agent) if agent != principal.agent => Err(DomainError::Forbidden {
                    action: "read another agent's report figures (only owners, admins and agents with full access may)",
                }
                .into()),
                _ => Ok((*account, Some(principal.agent))),
            }
        }
    }
}
