//! D8: automated messages held while the contact's dialog is active. A held message is written
//! by a [`Commit`](super::Commit) (its `hold` list) only while the dialog it waits for is still
//! active, and released by a later commit (its `release` list) that writes the message itself;
//! a message is released once (a second release of the same row fails the commit with
//! `conflict`). Released rows are kept, so a client's retry with the same client id is
//! recognised after the release too (M8).

use async_trait::async_trait;

use super::commit::StoreError;
use crate::Timestamp;
use crate::dialog::AutomatedSource;
use crate::ids::{AccountId, ContactId, ConversationId, DialogId, MessageId};

/// An automated message waiting for the contact's active dialog to end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldMessage {
    /// The id the message gets when it is released.
    pub id: MessageId,
    /// The account.
    pub account: AccountId,
    /// The contact it is for.
    pub contact: ContactId,
    /// The conversation it goes into.
    pub conversation: ConversationId,
    /// The active dialog it was held for.
    pub dialog: DialogId,
    /// Where it came from (flow or broadcast; AI messages are never held).
    pub source: AutomatedSource,
    /// Its text.
    pub body: String,
    /// The sending client's id for it (M8).
    pub client_id: Option<String>,
    /// When it was held: the release order is this time, then the id.
    pub held_at: Timestamp,
    /// When it was released; `None` while it waits.
    pub released_at: Option<Timestamp>,
}

/// A held message released by a commit, which writes the message with the same id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldRelease {
    /// The held message (and the id of the message written).
    pub id: MessageId,
    /// When it was released.
    pub at: Timestamp,
}

/// Reads held messages.
#[async_trait]
pub trait HeldStore: Send + Sync {
    /// D8: the contact's messages still held, in the order they were held (time, then id), at
    /// most `limit`.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn held_messages(
        &self,
        account: AccountId,
        contact: ContactId,
        limit: u32,
    ) -> Result<Vec<HeldMessage>, StoreError>;

    /// M8: the message held in the conversation with this client id, released or not.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn held_message_by_client_id(
        &self,
        account: AccountId,
        conversation: ConversationId,
        client_id: &str,
    ) -> Result<Option<HeldMessage>, StoreError>;
}
