//! Staff notifications (N3, D11) through the notification seam: each one is an outbox row of
//! kind `notification`, written in the commit of the change that causes it. The email channel
//! delivers them once it exists; until then they wait in the outbox, where tests read them.

use conversation_core::Timestamp;
use conversation_core::ids::{AccountId, AgentId, ConversationId, MessageId, TaskId};
use conversation_core::ports::{OutboxItem, OutboxKind};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::error::{AppError, AppResult};

/// What a staff notification says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Notification {
    /// D11: "your task starts in 5 minutes".
    TaskStartsSoon {
        /// Whose task.
        agent: AgentId,
        /// The task.
        task: TaskId,
        /// Its title (the dialog's).
        title: String,
        /// When it starts.
        starts_at: Timestamp,
    },
    /// N3: a message arrived while no agent of its queue was online.
    OfflineMessage {
        /// The conversation.
        conversation: ConversationId,
        /// The message.
        message: MessageId,
    },
    /// N3: the visitor left before anyone answered.
    MissedConversation {
        /// The conversation.
        conversation: ConversationId,
    },
}

impl App {
    /// The outbox row of a notification, due now.
    ///
    /// # Errors
    /// Only if it cannot be serialized.
    pub(crate) fn notification(
        &self,
        account: AccountId,
        notification: &Notification,
    ) -> AppResult<OutboxItem> {
        let now = self.now();
        Ok(OutboxItem {
            id: self.ids.new_uuid(now),
            account,
            kind: OutboxKind::Notification,
            payload: serde_json::to_string(notification).map_err(AppError::internal)?,
            due_at: now,
        })
    }

    /// N3, D11: the account's notifications still waiting in the outbox, oldest first.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn pending_notifications(&self, account: AccountId) -> AppResult<Vec<Notification>> {
        Ok(self
            .store
            .pending_outbox(account, OutboxKind::Notification, 1000)
            .await?
            .iter()
            .filter_map(|item| serde_json::from_str(&item.payload).ok())
            .collect())
    }
}
