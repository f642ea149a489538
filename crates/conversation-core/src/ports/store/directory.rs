//! The account's directory: accounts, agents, queues, inboxes, contacts, setting lists, tasks
//! and orders. Saves are upserts of the whole entity; reads are scoped to the account (A1).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::commit::StoreError;
use super::readers::Versioned;
use crate::Timestamp;
use crate::conversation::Conversation;
use crate::entities::{Account, Agent, Contact, Inbox, Order, Queue, SettingEntry, Task};
use crate::ids::{AccountId, AgentId, ContactId, ConversationId, InboxId, QueueId, TaskId};
use crate::presence::AgentPresence;

/// Which of the account's setting lists (D10, R10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingKind {
    /// Dialog request types.
    RequestType,
    /// Dialog reasons.
    Reason,
    /// Dialog components.
    Component,
    /// Wrap-up reasons.
    WrapUpReason,
}

/// C7: an asset live conversations depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dependency {
    /// The conversations of this inbox.
    Inbox(InboxId),
    /// The conversations waiting in, offered through or assigned through this queue.
    Queue(QueueId),
}

/// Reads and writes the directory.
#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// Creates an account.
    ///
    /// # Errors
    /// `conflict` when the id exists; storage failures.
    async fn create_account(&self, account: &Account) -> Result<(), StoreError>;

    /// One account.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError>;

    /// Inserts or updates an agent's profile (name, email, role, flags, permissions, capacity,
    /// experience, cost tier). Availability and load are not touched: they change through
    /// commits. A new agent starts offline with no load.
    ///
    /// # Errors
    /// `conflict` when another agent has the email (emails are unique, case-insensitive).
    async fn save_agent(&self, agent: &Agent) -> Result<(), StoreError>;

    /// One agent, with their current availability.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn agent(&self, account: AccountId, id: AgentId) -> Result<Option<Agent>, StoreError>;

    /// The account's agents, by name.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn agents(&self, account: AccountId) -> Result<Vec<Agent>, StoreError>;

    /// The agent signing in with this email, in any account (case-insensitive).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn agent_by_email(&self, email: &str) -> Result<Option<Agent>, StoreError>;

    /// Inserts or updates a queue and replaces its members.
    ///
    /// # Errors
    /// `not_found` when a member is not an agent of the account.
    async fn save_queue(&self, queue: &Queue) -> Result<(), StoreError>;

    /// One queue with its members.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn queue(&self, account: AccountId, id: QueueId) -> Result<Option<Queue>, StoreError>;

    /// The account's queues, by name.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn queues(&self, account: AccountId) -> Result<Vec<Queue>, StoreError>;

    /// The queues an agent is a member of.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn queues_of_agent(
        &self,
        account: AccountId,
        agent: AgentId,
    ) -> Result<Vec<QueueId>, StoreError>;

    /// Deletes a queue (its conversations are interrupted by the caller first, C7). Returns
    /// whether it existed.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn delete_queue(&self, account: AccountId, id: QueueId) -> Result<bool, StoreError>;

    /// Inserts or updates an inbox.
    ///
    /// # Errors
    /// `not_found` when its queue is not a queue of the account.
    async fn save_inbox(&self, inbox: &Inbox) -> Result<(), StoreError>;

    /// One inbox.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn inbox(&self, account: AccountId, id: InboxId) -> Result<Option<Inbox>, StoreError>;

    /// W3: one inbox, whatever its account: for the public widget, which knows only the inbox
    /// id. Everything the widget reaches from it is then scoped to the inbox's account (A1).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn inbox_by_id(&self, id: InboxId) -> Result<Option<Inbox>, StoreError>;

    /// The account's inboxes, by name.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn inboxes(&self, account: AccountId) -> Result<Vec<Inbox>, StoreError>;

    /// Marks an inbox deleted at `at`: it stops receiving and is no longer returned, nothing
    /// stored is deleted (C7). Returns whether it existed (and was not deleted already).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn delete_inbox(
        &self,
        account: AccountId,
        id: InboxId,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Inserts or updates a contact and replaces its channel identities.
    ///
    /// # Errors
    /// `conflict` when one of its identities belongs to another contact.
    async fn save_contact(&self, contact: &Contact) -> Result<(), StoreError>;

    /// One contact.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn contact(
        &self,
        account: AccountId,
        id: ContactId,
    ) -> Result<Option<Contact>, StoreError>;

    /// K2: the contact known on this inbox by this channel id.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn contact_by_identity(
        &self,
        account: AccountId,
        inbox: InboxId,
        external_id: &str,
    ) -> Result<Option<Contact>, StoreError>;

    /// Inserts or updates an entry of a setting list (archiving is an update, D10).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn save_setting(
        &self,
        account: AccountId,
        kind: SettingKind,
        entry: &SettingEntry<Uuid>,
    ) -> Result<(), StoreError>;

    /// A setting list, by name, archived entries included.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn settings(
        &self,
        account: AccountId,
        kind: SettingKind,
    ) -> Result<Vec<SettingEntry<Uuid>>, StoreError>;

    /// N2: an agent's tasks, by due time.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn tasks(&self, account: AccountId, agent: AgentId) -> Result<Vec<Task>, StoreError>;

    /// M6: records that the contact was seen at `at`; a later time already stored is kept.
    ///
    /// # Errors
    /// Only for storage failures (an unknown contact changes nothing).
    async fn mark_contact_seen(
        &self,
        account: AccountId,
        contact: ContactId,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// M6: when the contact was last seen, if ever.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn contact_last_seen(
        &self,
        account: AccountId,
        contact: ContactId,
    ) -> Result<Option<Timestamp>, StoreError>;

    /// N2: one task of the account.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn task(&self, account: AccountId, id: TaskId) -> Result<Option<Task>, StoreError>;

    /// N2: writes a changed task (its title, due time or done time) over the stored one of
    /// the same id, account and agent.
    ///
    /// # Errors
    /// `not_found` when there is no such task.
    async fn update_task(&self, task: &Task) -> Result<(), StoreError>;

    /// C10: the orders of a conversation, oldest first.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn orders(
        &self,
        account: AccountId,
        conversation: ConversationId,
    ) -> Result<Vec<Order>, StoreError>;
    /// R1: an agent's presence (availability and since when) with its version, which a commit
    /// changing it expects: 0 before its first change ([`super::ExpectedVersion::New`]).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn agent_presence(
        &self,
        account: AccountId,
        agent: AgentId,
    ) -> Result<Option<Versioned<AgentPresence>>, StoreError>;

    /// One inbox, also when it was deleted (C7: the conversations it interrupted still end).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn inbox_with_deleted(
        &self,
        account: AccountId,
        id: InboxId,
    ) -> Result<Option<Inbox>, StoreError>;

    /// C7: the conversations that depend on an inbox or a queue and are live (open or with a
    /// bot) and not interrupted yet, oldest first.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn live_conversations_of(
        &self,
        account: AccountId,
        dependency: Dependency,
    ) -> Result<Vec<ConversationId>, StoreError>;

    /// K1, K2: the conversations of a contact and of every contact merged into it (directly or
    /// through others), newest activity first.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn contact_conversations(
        &self,
        account: AccountId,
        contact: ContactId,
    ) -> Result<Vec<Versioned<Conversation>>, StoreError>;

    /// K2: saves several contacts (as [`DirectoryStore::save_contact`]) in one transaction, in
    /// order: all of them or none. A merge saves the merged contact without its identities
    /// first, then the survivor with them.
    ///
    /// # Errors
    /// As [`DirectoryStore::save_contact`]; nothing is written then.
    async fn save_contacts(&self, contacts: &[Contact]) -> Result<(), StoreError>;
}
