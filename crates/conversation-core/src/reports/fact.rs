//! P1: a report fact: one thing that happened, counted or timed, with its time and dimensions.

use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::ids::{AgentId, InboxId, QueueId, WrapUpReasonId};

/// What a fact measures. Counts carry no value; durations carry seconds; ratings carry 1 to 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// A conversation started.
    Opened,
    /// A conversation was resolved.
    Resolved,
    /// A conversation was dropped (C6, reported apart from resolved).
    Dropped,
    /// A closed conversation opened again (C3, C4).
    Reopened,
    /// Seconds from the latest of creation, bot handoff or reopen to the first human reply.
    FirstResponse,
    /// Seconds from `waiting_since` (C8) to the agent's reply.
    Reply,
    /// Seconds from the start of an open episode (creation or reopen) to its resolution.
    TimeToClose,
    /// Seconds an agent handled the conversation: from accepting it (or being assigned, or
    /// joining a conference) to their wrap-up, transfer or leaving.
    HandleTime,
    /// A wrap-up reason was given (resolve, transfer, leaving a conference).
    WrapUp,
    /// D12: the agent's rating of the contact (1 to 3 stars).
    ContactRating,
    /// D13: the contact's satisfaction (1 to 3).
    Satisfaction,
}

impl Metric {
    /// Every metric, in report order.
    pub const ALL: [Self; 11] = [
        Self::Opened,
        Self::Resolved,
        Self::Dropped,
        Self::Reopened,
        Self::FirstResponse,
        Self::Reply,
        Self::TimeToClose,
        Self::HandleTime,
        Self::WrapUp,
        Self::ContactRating,
        Self::Satisfaction,
    ];

    /// Its name in storage, JSON and CSV.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Opened => "opened",
            Self::Resolved => "resolved",
            Self::Dropped => "dropped",
            Self::Reopened => "reopened",
            Self::FirstResponse => "first_response",
            Self::Reply => "reply",
            Self::TimeToClose => "time_to_close",
            Self::HandleTime => "handle_time",
            Self::WrapUp => "wrap_up",
            Self::ContactRating => "contact_rating",
            Self::Satisfaction => "satisfaction",
        }
    }

    /// The metric of a name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|metric| metric.as_str() == name)
    }

    /// Whether its facts carry a duration in seconds.
    #[must_use]
    pub const fn is_duration(self) -> bool {
        matches!(
            self,
            Self::FirstResponse | Self::Reply | Self::TimeToClose | Self::HandleTime
        )
    }

    /// Whether its facts carry a rating (1 to 3).
    #[must_use]
    pub const fn is_rating(self) -> bool {
        matches!(self, Self::ContactRating | Self::Satisfaction)
    }
}

/// One counted or timed thing, at the time it became known (a duration at its end).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    /// When: the event that completed it. Reports put it on this time's UTC day.
    pub at: Timestamp,
    /// What.
    pub metric: Metric,
    /// The conversation's inbox.
    pub inbox: Option<InboxId>,
    /// The conversation's queue at that time.
    pub queue: Option<QueueId>,
    /// The agent it is credited to, if any.
    pub agent: Option<AgentId>,
    /// The wrap-up reason ([`Metric::WrapUp`] only).
    pub reason: Option<WrapUpReasonId>,
    /// Seconds for a duration, 1 to 3 for a rating, `None` for a count.
    pub value: Option<u64>,
}
