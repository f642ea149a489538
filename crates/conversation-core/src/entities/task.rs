use serde::{Deserialize, Serialize};

use super::Timestamp;
use crate::ids::{AccountId, AgentId, ContactId, ConversationId, DialogId, TaskId};

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
