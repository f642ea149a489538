//! The store ports. One transaction per change: a [`Commit`] carries the new state of every
//! aggregate it touches (with the version it was read at), the events, the new messages and
//! the outbox rows, and [`CommitStore::commit`] writes all of it or nothing. Readers return
//! `Ok(None)` for what does not exist or belongs to another account (A1), never an error.
//! Implementations: `SqliteStore` and `PgStore` in `inbox-store`; one contract suite proves
//! that both keep every guarantee written here.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::Timestamp;
use crate::conversation::Conversation;
use crate::dialog::{ContactDialogs, Dialog};
use crate::error::DomainError;
use crate::events::DomainEvent;
use crate::ids::{
    AccountId, AgentId, ContactId, ConversationId, DialogId, InboxId, MessageId, QueueId,
};
use crate::message::Message;
use crate::presence::AgentPresence;
use crate::routing::Candidate;

/// A value with the version it was stored at (optimistic concurrency).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Versioned<T> {
    /// The value.
    pub value: T,
    /// Its version: 1 after the first commit, +1 at each commit that changes it.
    pub version: u64,
}

/// Which aggregate a change is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// A conversation.
    Conversation(Box<Conversation>),
    /// A dialog.
    Dialog(Box<Dialog>),
    /// An agent's presence.
    Agent(AgentPresence),
}

/// The version a change expects to find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// The aggregate must not exist yet.
    New,
    /// The aggregate must be at exactly this version.
    Exactly(u64),
}

/// The new state of one aggregate and the events that led there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregateChange {
    /// Which aggregate.
    pub aggregate: AggregateId,
    /// The version it was read at.
    pub expected: ExpectedVersion,
    /// Its new state.
    pub state: AggregateState,
    /// The events, in order.
    pub events: Vec<DomainEvent>,
}

/// What an outbox row asks the dispatcher to do after the commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxKind {
    /// Deliver an outbound message through its channel (H3).
    Delivery,
    /// Unsend a deleted message where the channel can (M5).
    Unsend,
    /// Send an integration webhook (N5).
    Webhook,
    /// Send an email or SMS notification to staff (N3, N4).
    Notification,
}

/// A unit of work to do after the commit, written in the same transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxItem {
    /// Its id: the idempotency key of the work.
    pub id: uuid::Uuid,
    /// What to do.
    pub kind: OutboxKind,
    /// The serialized instruction (JSON).
    pub payload: String,
    /// Not before this time.
    pub due_at: Timestamp,
}

/// Everything one change writes, atomically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// The account every row belongs to.
    pub account: AccountId,
    /// The aggregates changed.
    pub changes: Vec<AggregateChange>,
    /// The messages added; their `sequence` field is ignored and assigned by the store (M9).
    pub messages: Vec<Message>,
    /// The work to do afterwards.
    pub outbox: Vec<OutboxItem>,
}

/// What a successful commit assigned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitReceipt {
    /// The new version of each change, in the order of [`Commit::changes`].
    pub versions: Vec<u64>,
    /// The sequence number of each new message, in the order of [`Commit::messages`].
    pub message_sequences: Vec<u64>,
    /// The global sequence of the last event written (0 if none).
    pub last_event_sequence: u64,
}

/// An event as the log stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    /// Its position in the account's global log: increasing, gap-free per account.
    pub sequence: u64,
    /// The aggregate it belongs to.
    pub aggregate: AggregateId,
    /// The event.
    pub event: DomainEvent,
}

/// Why the store could not do what was asked.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A rule held by the database refused the change: a lost optimistic race
    /// (`conflict`), a second active dialog (`dialog_already_active`), a second open
    /// conversation for a contact and inbox, an agent above capacity. Reload and decide again.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// M8: the inbound message (by inbox and external id) or the client message (by
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
    /// Guarantees: every change's version is checked against [`AggregateChange::expected`];
    /// events get consecutive global sequence numbers after all earlier commits of the account;
    /// messages get the next gap-free sequence numbers of their conversation (M9); the
    /// database's own constraints hold D3, C1, M8 and R2 whatever the concurrency.
    ///
    /// # Errors
    /// [`StoreError::Domain`] for a lost race or a broken invariant (nothing written),
    /// [`StoreError::Duplicate`] for a message stored before, [`StoreError::Unavailable`] and
    /// [`StoreError::Internal`] otherwise.
    async fn commit(&self, commit: Commit) -> Result<CommitReceipt, StoreError>;
}

/// Reads conversations.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// One conversation of the account.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn conversation(
        &self,
        account: AccountId,
        id: ConversationId,
    ) -> Result<Option<Versioned<Conversation>>, StoreError>;

    /// C1: the contact's conversation on the inbox that is not resolved or dropped, if any.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn live_conversation(
        &self,
        account: AccountId,
        inbox: InboxId,
        contact: ContactId,
    ) -> Result<Option<Versioned<Conversation>>, StoreError>;
}

/// Reads dialogs.
#[async_trait]
pub trait DialogStore: Send + Sync {
    /// One dialog of the account.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn dialog(
        &self,
        account: AccountId,
        id: DialogId,
    ) -> Result<Option<Versioned<Dialog>>, StoreError>;

    /// D3, D5: the snapshot of all the contact's dialogs, across their conversations.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn contact_dialogs(
        &self,
        account: AccountId,
        contact: ContactId,
    ) -> Result<ContactDialogs, StoreError>;
}

/// Reads messages.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// One message of the account.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn message(
        &self,
        account: AccountId,
        id: MessageId,
    ) -> Result<Option<Message>, StoreError>;

    /// Messages of a conversation with a sequence above `after`, in sequence order.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn messages_after(
        &self,
        account: AccountId,
        conversation: ConversationId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError>;
}

/// Reads the event log (N1, L8: resume after the last sequence seen).
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Events of the account with a sequence above `after`, in order, at most `limit`.
    /// Guarantee: no event committed before this call with a sequence in the returned range
    /// is missing from it.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn events_after(
        &self,
        account: AccountId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError>;
}

/// Reads what routing chooses from.
#[async_trait]
pub trait RoutingStore: Send + Sync {
    /// R2, R3: the members of the queue with their availability and current load.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn candidates(
        &self,
        account: AccountId,
        queue: QueueId,
    ) -> Result<Vec<Candidate>, StoreError>;
}
