//! The read side: one role trait per kind of thing read. Every method is scoped to an account;
//! what belongs to another account reads as absent (A1).

use async_trait::async_trait;

use super::commit::{AggregateId, StoreError};
use super::list::{ConversationPage, ConversationQuery};
use crate::conversation::Conversation;
use crate::dialog::{ContactDialogs, Dialog};
use crate::events::DomainEvent;
use crate::ids::{
    AccountId, AgentId, ContactId, ConversationId, DialogId, InboxId, MessageId, QueueId,
};
use crate::message::Message;
use crate::routing::Candidate;

/// A value with the version it was stored at (optimistic concurrency).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Versioned<T> {
    /// The value.
    pub value: T,
    /// Its version: 1 after the first commit, +1 at each commit that changes it.
    pub version: u64,
}

/// An event as the log stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    /// Its position in the account's log: increasing and gap-free per account.
    pub sequence: u64,
    /// The aggregate it belongs to.
    pub aggregate: AggregateId,
    /// The event.
    pub event: DomainEvent,
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

    /// C3: the contact's latest conversation on the inbox, live or closed, if any: the one an
    /// inbound message reopens.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn latest_conversation(
        &self,
        account: AccountId,
        inbox: InboxId,
        contact: ContactId,
    ) -> Result<Option<Versioned<Conversation>>, StoreError>;

    /// C9: one page of a conversation list with its total count, newest activity first, from
    /// indexes (no scan of messages). Guarantee: following `next` cursors visits every row of
    /// the list exactly once while nothing changes.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn list_conversations(
        &self,
        query: &ConversationQuery,
    ) -> Result<ConversationPage, StoreError>;
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

    /// The contact's dialogs, newest first.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn dialogs_of_contact(
        &self,
        account: AccountId,
        contact: ContactId,
    ) -> Result<Vec<Dialog>, StoreError>;
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

    /// M6: the message a channel's status report names, by the provider's id.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn message_by_external_id(
        &self,
        account: AccountId,
        inbox: InboxId,
        external_id: &str,
    ) -> Result<Option<Message>, StoreError>;

    /// Messages of a conversation with a sequence above `after`, in sequence order (M9).
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

    /// D7: messages sent and received within a dialog, in sequence order.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn dialog_messages(
        &self,
        account: AccountId,
        dialog: DialogId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError>;
}

/// Reads the event log (N1, L8: resume after the last sequence seen; C12: timelines).
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Events of the account with a sequence above `after`, in order, at most `limit`.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn events_after(
        &self,
        account: AccountId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError>;

    /// C12: the events of one aggregate (a conversation's timeline), in order.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn aggregate_events(
        &self,
        account: AccountId,
        aggregate: AggregateId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError>;
}

/// Reads what routing chooses from.
#[async_trait]
pub trait RoutingStore: Send + Sync {
    /// R1-R3: the members of the queue with their availability, experience, cost tier and
    /// current load (assigned open conversations plus outstanding offers).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn candidates(
        &self,
        account: AccountId,
        queue: QueueId,
    ) -> Result<Vec<Candidate>, StoreError>;

    /// R5: the conversations waiting in the queue, oldest first (`since`, then id).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn waiting(
        &self,
        account: AccountId,
        queue: QueueId,
        limit: u32,
    ) -> Result<Vec<Conversation>, StoreError>;

    /// R4: one agent of the account as a routing candidate (availability, load, experience,
    /// cost tier), whether or not they are a member of a queue: a returning contact's
    /// responsible agent.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn agent_candidate(
        &self,
        account: AccountId,
        agent: AgentId,
    ) -> Result<Option<Candidate>, StoreError>;

    /// R3 `round_robin`: the agent last chosen in the queue (its cursor), if any.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn route_cursor(
        &self,
        account: AccountId,
        queue: QueueId,
    ) -> Result<Option<AgentId>, StoreError>;

    /// R3 `round_robin`: moves the queue's cursor to the agent just chosen. Advisory: written
    /// after the assignment's commit; a lost write only makes the next choice start earlier.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn set_route_cursor(
        &self,
        account: AccountId,
        queue: QueueId,
        agent: AgentId,
    ) -> Result<(), StoreError>;
}
