//! Where a dialog stands (D2, D4): [`DialogStatus`], a data-carrying enum whose `Completed`
//! variant holds everything that happens at and after completion (the agent's rating of the
//! contact, the satisfaction form that was sent, the contact's answer), so that a rating or an
//! answer on a dialog that is not completed cannot even be written down. [`DialogStatusKind`]
//! is the status without its data, as stores and snapshots keep it.

use serde::{Deserialize, Serialize};

use super::rating::{Satisfaction, Stars};
use crate::entities::{SatisfactionForm, Timestamp};

/// The status of a dialog, with the data that belongs to it (D4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DialogStatus {
    /// D2: being handled; the contact's messages go into it (D5).
    Active,
    /// Set aside; nobody writes in it (D6) until it is resumed.
    Paused {
        /// When it was paused.
        since: Timestamp,
    },
    /// Done; final (D4).
    Completed {
        /// When it was completed.
        at: Timestamp,
        /// D12: the agent's rating of the contact, given with the completion.
        contact_rating: Option<Stars>,
        /// D12, D13: the satisfaction form, if one was sent with the completion, and the
        /// contact's answer to it.
        satisfaction_form: Option<SentSatisfactionForm>,
    },
}

impl DialogStatus {
    /// The status without its data.
    #[must_use]
    pub const fn kind(&self) -> DialogStatusKind {
        match self {
            Self::Active => DialogStatusKind::Active,
            Self::Paused { .. } => DialogStatusKind::Paused,
            Self::Completed { .. } => DialogStatusKind::Completed,
        }
    }
}

/// A dialog's status without its data: what a [`ContactDialogs`](super::ContactDialogs)
/// snapshot and a store's status column hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DialogStatusKind {
    /// [`DialogStatus::Active`].
    Active,
    /// [`DialogStatus::Paused`].
    Paused,
    /// [`DialogStatus::Completed`].
    Completed,
}

impl DialogStatusKind {
    /// The status in words, as error messages and the transition table name it.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Completed => "completed",
        }
    }
}

/// D13: the satisfaction form as it was sent to the contact, and their answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentSatisfactionForm {
    /// When it was sent.
    pub sent_at: Timestamp,
    /// The text, labels and thank-you answer it was sent with. Later edits of the account's
    /// form do not change it: the contact is answered with the thank-you of the form they saw.
    pub form: SatisfactionForm,
    /// The contact's first click; later clicks do not change it.
    pub answer: Option<SatisfactionAnswer>,
}

/// D13: the contact's recorded click on the satisfaction form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SatisfactionAnswer {
    /// The button they clicked.
    pub value: Satisfaction,
    /// When.
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    #[test]
    fn d4_status_kinds_name_the_three_statuses() {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let statuses = [
            DialogStatus::Active,
            DialogStatus::Paused { since: t },
            DialogStatus::Completed {
                at: t,
                contact_rating: None,
                satisfaction_form: None,
            },
        ];
        let names: Vec<_> = statuses.iter().map(|s| s.kind().as_str()).collect();
        assert_eq!(names, ["active", "paused", "completed"]);
        for status in statuses {
            let json = serde_json::to_value(&status).unwrap();
            assert_eq!(json["status"], status.kind().as_str());
            assert_eq!(
                serde_json::from_value::<DialogStatus>(json).unwrap(),
                status
            );
        }
    }
}
