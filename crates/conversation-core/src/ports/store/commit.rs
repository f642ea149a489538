//! The write side: one [`Commit`] per change, written atomically by [`CommitStore::commit`].

use async_trait::async_trait;
use thiserror::Error;

use super::files::StoredFile;
use super::held::{HeldMessage, HeldRelease};
use super::work::{OutboxItem, TimerChange};
use crate::conversation::{Conversation, LoadChange};
use crate::dialog::Dialog;
use crate::entities::{Order, Task};
use crate::error::DomainError;
use crate::events::DomainEvent;
use crate::ids::{AccountId, AgentId, ConversationId, DialogId, MessageId};
use crate::message::{Delivery, Message, Tombstone};
use crate::presence::AgentPresence;

/// Which aggregate a change is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum AggregateId {
    /// A conversation.
    Conversation(ConversationId),
    /// A dialog.
    Dialog(DialogId),
    /// An agent's presence.
    Agent(AgentId),
}

/// The state written for an aggregate, from which the store keeps its query columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AggregateState {
    /// A conversation, with the load moves of this change (R2).
    Conversation {
        /// Its new state.
        conversation: Box<Conversation>,
        /// Whose load drops and whose rises; a claim that must respect capacity fails the
        /// whole commit with `capacity_exceeded` when the agent is full.
        load: LoadChange,
    },
    /// A dialog.
    Dialog(Box<Dialog>),
    /// An agent's presence.
    Agent(AgentPresence),
}

impl AggregateState {
    /// The id of the aggregate this state belongs to.
    #[must_use]
    pub fn id(&self) -> AggregateId {
        match self {
            Self::Conversation { conversation, .. } => AggregateId::Conversation(conversation.id),
            Self::Dialog(dialog) => AggregateId::Dialog(dialog.id),
            Self::Agent(presence) => AggregateId::Agent(presence.agent),
        }
    }
}

/// The version a change expects to find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// The aggregate must not exist yet (for an agent's presence: its first change).
    New,
    /// The aggregate must be at exactly this version.
    Exactly(u64),
}

/// The new state of one aggregate and the events that led there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregateChange {
    /// The version it was read at.
    pub expected: ExpectedVersion,
    /// Its new state.
    pub state: AggregateState,
    /// The events, in order.
    pub events: Vec<DomainEvent>,
}

/// A change to a stored message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageUpdate {
    /// M6: its delivery record moved forward (or its provider id became known).
    Delivery {
        /// The message.
        message: MessageId,
        /// The whole new delivery record.
        delivery: Delivery,
        /// The provider's id, once the channel accepted it.
        external_id: Option<String>,
    },
    /// M5: deleted; the body and attachment are removed, the tombstone kept.
    Deleted {
        /// The message.
        message: MessageId,
        /// Who deleted it and when.
        tombstone: Tombstone,
    },
}

/// Everything one change writes, atomically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// The account every row belongs to (A1: rows of other accounts are never touched).
    pub account: AccountId,
    /// The aggregates changed.
    pub changes: Vec<AggregateChange>,
    /// The messages added; their `sequence` field is ignored and assigned by the store (M9).
    pub messages: Vec<Message>,
    /// Changes to stored messages; deleting one (M5) also removes its file.
    pub message_updates: Vec<MessageUpdate>,
    /// M7: the files of the new messages, written with them.
    pub files: Vec<StoredFile>,
    /// Orders created (C10).
    pub orders: Vec<Order>,
    /// Tasks created (N2).
    pub tasks: Vec<Task>,
    /// Timers scheduled or cancelled.
    pub timers: Vec<TimerChange>,
    /// The work to do afterwards.
    pub outbox: Vec<OutboxItem>,
    /// D8: automated messages to hold; each only while its dialog is still active, else the
    /// commit fails with `conflict` (decide again: the message may go now).
    pub hold: Vec<HeldMessage>,
    /// D8: held messages released (each once; a second release fails with `conflict`).
    pub release: Vec<HeldRelease>,
}

impl Commit {
    /// An empty commit for the account, to fill in.
    #[must_use]
    pub const fn new(account: AccountId) -> Self {
        Self {
            account,
            changes: Vec::new(),
            messages: Vec::new(),
            message_updates: Vec::new(),
            files: Vec::new(),
            orders: Vec::new(),
            tasks: Vec::new(),
            timers: Vec::new(),
            outbox: Vec::new(),
            hold: Vec::new(),
            release: Vec::new(),
        }
    }
}

/// What a successful commit assigned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitReceipt {
    /// The new version of each change, in the order of [`Commit::changes`].
    pub versions: Vec<u64>,
    /// The sequence number of each new message, in the order of [`Commit::messages`].
    pub message_sequences: Vec<u64>,
    /// The account-wide sequence of the last event written (0 if none).
    pub last_event_sequence: u64,
}

/// Why the store could not do what was asked.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A rule held by the database refused the change: a lost optimistic race (`conflict`), a
    /// second active dialog (`dialog_already_active`), a second open conversation for a contact
    /// and inbox (`conflict`), an agent at capacity (`capacity_exceeded`). Nothing was written;
    /// reload and decide again.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// M8: the inbound message (by inbox and external id) or the client's message (by
    /// conversation and client id) is already stored; nothing was written.
    #[error("message already stored as {existing}")]
    Duplicate {
        /// The stored message.
        existing: MessageId,
    },
    /// The database cannot be reached; the caller answers 503 and may retry.
    #[error("the database is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else; details for the log only.
    #[error("storage failure")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Writes changes.
#[async_trait]
pub trait CommitStore: Send + Sync {
    /// Writes the whole commit in one transaction, or nothing.
    ///
    /// Guarantees:
    /// - every change's version is checked against [`AggregateChange::expected`], and its new
    ///   version is the old one plus one;
    /// - events get consecutive account-wide sequence numbers, after those of every commit of
    ///   the account that finished before this one began, and a reader of the log never sees a
    ///   later sequence before an earlier one (N1, L8);
    /// - messages get the next gap-free sequence numbers of their conversation (M9);
    /// - D3 (one active dialog per contact), C1 (one live conversation per contact and inbox),
    ///   M8 (one message per inbox and external id, per conversation and client id) and R2
    ///   (capacity, through [`AggregateState::Conversation::load`]) hold whatever the
    ///   concurrency, on any number of processes.
    ///
    /// # Errors
    /// [`StoreError::Domain`] for a lost race or a broken invariant, [`StoreError::Duplicate`]
    /// for a message stored before (nothing written in both cases);
    /// [`StoreError::Unavailable`] and [`StoreError::Internal`] otherwise.
    async fn commit(&self, commit: Commit) -> Result<CommitReceipt, StoreError>;
}
