//! Staff notifications (N3, N4, D11): each one is an outbox row of kind `notification`, written
//! in the commit of the change that causes it, and sent afterwards by the
//! [`sender::NotificationWorker`] through the application's [`StaffMailer`] (email) and
//! [`StaffTexter`] (SMS) ports.
//!
//! - `audience`: N3's decisions (offline message, missed conversation) and who is told;
//! - [`sms`]: N4's account setting (owners and admins) and the text rows a visitor's new chat
//!   writes in its start's commit;
//! - [`sender`]: the worker that claims the rows with a lease and sends them, once each.
//!
//! D11's reminder (`TaskStartsSoon`) is written by the timer worker (`crate::worker`).
//!
//! [`StaffMailer`]: conversation_core::ports::StaffMailer
//! [`StaffTexter`]: conversation_core::ports::StaffTexter

mod audience;
pub mod sender;
pub mod sms;

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
    /// D11: "your task starts in 5 minutes", by email to the task's agent.
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
    /// N3: a contact's message arrived while no agent who could answer it was online.
    OfflineMessage {
        /// The conversation.
        conversation: ConversationId,
        /// The message.
        message: MessageId,
        /// Who gets the email.
        recipients: Vec<String>,
        /// The email's text.
        text: String,
    },
    /// N3: the contact's awaiting message was never answered (the visitor left).
    MissedConversation {
        /// The conversation.
        conversation: ConversationId,
        /// Who gets the email.
        recipients: Vec<String>,
        /// The email's text.
        text: String,
    },
    /// N4: a visitor started a chat: one text to one staff number (one row per number, so
    /// that each is retried on its own and none is sent twice).
    StaffSms {
        /// The conversation the visitor started.
        conversation: ConversationId,
        /// The staff number, in E.164 form.
        to: String,
        /// The text.
        text: String,
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

    /// N3, N4, D11: the account's notifications not sent yet, oldest first.
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
