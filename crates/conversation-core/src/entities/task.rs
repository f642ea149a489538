use serde::{Deserialize, Serialize};

use super::Timestamp;
use crate::ids::{AccountId, AgentId, ContactId, ConversationId, DialogId, TaskId};
use crate::{DomainError, DomainResult};

/// Why a task exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TaskSource {
    /// D11: the agent was added to a dialog.
    Dialog {
        /// The dialog.
        dialog: DialogId,
    },
    /// R4: a contact the agent is responsible for wrote again while the agent could not take it.
    ReturningContact {
        /// The contact.
        contact: ContactId,
        /// The conversation they wrote in.
        conversation: ConversationId,
    },
    /// N2: the agent wrote it down themselves.
    Personal,
}

/// A personal task of an agent (N2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Its id.
    pub id: TaskId,
    /// The account.
    pub account: AccountId,
    /// The agent whose list it is on.
    pub agent: AgentId,
    /// What to do.
    pub title: String,
    /// Where it came from.
    pub source: TaskSource,
    /// When it starts or is due.
    pub due_at: Timestamp,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was done, if it was.
    pub done_at: Option<Timestamp>,
}

impl Task {
    /// The longest title, in characters.
    pub const TITLE_LIMIT: usize = 500;

    /// N2: a task an agent writes on their own list.
    ///
    /// # Errors
    /// `missing_field` (`title`) for a blank title; `message_too_long` past
    /// [`Task::TITLE_LIMIT`] characters.
    pub fn personal(
        id: TaskId,
        account: AccountId,
        agent: AgentId,
        title: &str,
        due_at: Timestamp,
        now: Timestamp,
    ) -> DomainResult<Self> {
        let title = title.trim();
        if title.is_empty() {
            return Err(DomainError::MissingField { field: "title" });
        }
        let length = title.chars().count();
        if length > Self::TITLE_LIMIT {
            return Err(DomainError::MessageTooLong {
                max: Self::TITLE_LIMIT,
                actual: length,
            });
        }
        Ok(Self {
            id,
            account,
            agent,
            title: title.to_owned(),
            source: TaskSource::Personal,
            due_at,
            created_at: now,
            done_at: None,
        })
    }

    /// N2: marks it done at `now`, or not done. Marking a done task done again keeps the
    /// first time.
    pub fn set_done(&mut self, done: bool, now: Timestamp) {
        self.done_at = if done {
            self.done_at.or(Some(now))
        } else {
            None
        };
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn at(minutes: i64) -> Timestamp {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
    }

    fn personal(title: &str) -> DomainResult<Task> {
        Task::personal(
            TaskId::from_u128(1),
            AccountId::from_u128(2),
            AgentId::from_u128(3),
            title,
            at(60),
            at(0),
        )
    }

    #[test]
    fn n2_an_agent_writes_a_task_with_a_due_time_and_ticks_it_off() {
        let mut task = personal("  Call the customer back ").unwrap();
        assert_eq!(task.title, "Call the customer back");
        assert_eq!(
            (task.source, task.due_at, task.done_at),
            (TaskSource::Personal, at(60), None)
        );
        task.set_done(true, at(5));
        task.set_done(true, at(9));
        assert_eq!(
            task.done_at,
            Some(at(5)),
            "the first time it was done is kept"
        );
        task.set_done(false, at(10));
        assert_eq!(task.done_at, None);
    }

    #[test]
    fn n2_a_task_needs_a_title_of_bounded_length() {
        assert_eq!(
            personal("   ").unwrap_err(),
            DomainError::MissingField { field: "title" }
        );
        assert_eq!(
            personal(&"x".repeat(Task::TITLE_LIMIT + 1))
                .unwrap_err()
                .code(),
            "message_too_long"
        );
        assert!(personal(&"x".repeat(Task::TITLE_LIMIT)).is_ok());
    }
}
