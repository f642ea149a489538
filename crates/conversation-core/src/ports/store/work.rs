//! Durable work: timers (offer timeouts, grace periods, reminders) and the outbox (deliveries,
//! webhooks, notifications). Both are written in the commit of the change that causes them and
//! claimed afterwards with a lease, so each item is done by one worker at a time, across
//! processes, and an item whose worker died is claimed again when its lease runs out.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::commit::StoreError;
use crate::Timestamp;
use crate::ids::AccountId;

/// What a timer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    /// R6: an offer's deadline.
    OfferTimeout,
    /// R9: a conference invitation's deadline.
    ConferenceTimeout,
    /// R11: the end of an offline agent's grace period.
    OfflineGrace,
    /// C8: the reply-time target of an awaiting conversation.
    ReplyTarget,
    /// D11: the reminder of a dialog task.
    TaskReminder,
    /// D8: a dialog of the contact left `active`: release their held messages.
    ReleaseHeld,
    /// N3: a contact's message started an awaiting reply: notify if no agent is online.
    OfflineCheck,
    /// N3: an awaiting reply ended unanswered (closed, or too long): a missed conversation.
    MissedCheck,
    /// W7: an agent replied on a web chat with email continuity: mail what the visitor has
    /// not seen.
    ContinuityCheck,
}

/// A timer: fires once at `due_at` (or later, never earlier).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timer {
    /// The account.
    pub account: AccountId,
    /// Unique per account: scheduling the same key again moves the timer.
    pub key: String,
    /// What it is for.
    pub kind: TimerKind,
    /// The serialized instruction (JSON).
    pub payload: String,
    /// When it is due.
    pub due_at: Timestamp,
}

/// A timer scheduled or cancelled by a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimerChange {
    /// Schedule (or move) the timer with this key.
    Schedule(Timer),
    /// Cancel the timer with this key, if it exists.
    Cancel {
        /// Its key.
        key: String,
    },
}

/// What an outbox row asks the dispatcher to do after the commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxKind {
    /// H3: deliver an outbound message through its channel.
    Delivery,
    /// M5: unsend a deleted message where the channel can.
    Unsend,
    /// N5: send an integration webhook.
    Webhook,
    /// N3, N4: send an email or SMS notification to staff.
    Notification,
    /// W7: email a web chat visitor the agent replies they have not seen.
    ContinuityEmail,
}

/// A unit of work to do after the commit, written in the same transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxItem {
    /// Its id: the idempotency key of the work.
    pub id: Uuid,
    /// The account.
    pub account: AccountId,
    /// What to do.
    pub kind: OutboxKind,
    /// The serialized instruction (JSON).
    pub payload: String,
    /// Not before this time.
    pub due_at: Timestamp,
}

/// A timer or outbox item claimed by a worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedWork<T> {
    /// The item.
    pub item: T,
    /// How many times it was claimed before (0 the first time).
    pub attempts: u32,
}

/// Claims due timers.
#[async_trait]
pub trait TimerStore: Send + Sync {
    /// Claims up to `limit` timers due at `now` whose lease is free or expired, leasing them to
    /// `owner` until `lease_until`, earliest due first. Guarantee: while a lease runs, no other
    /// call returns the same timer.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn claim_due_timers(
        &self,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedWork<Timer>>, StoreError>;

    /// As [`TimerStore::claim_due_timers`], only the timers of `account`: for a worker scoped
    /// to one account (tests that share a database with others, each on its own clock).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn claim_due_timers_of(
        &self,
        account: AccountId,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedWork<Timer>>, StoreError>;

    /// Removes a fired timer, if `owner` still holds its lease (a timer moved meanwhile is
    /// kept). Returns whether it was removed.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn finish_timer(
        &self,
        account: AccountId,
        key: &str,
        owner: &str,
    ) -> Result<bool, StoreError>;
}

/// Claims outbox work.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Claims up to `limit` due items whose lease is free or expired, as for timers.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn claim_outbox(
        &self,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedWork<OutboxItem>>, StoreError>;

    /// As [`OutboxStore::claim_outbox`], only items of the given kinds, and only those of
    /// `account` when one is given: each dispatcher claims the work it knows how to do (H3
    /// deliveries and unsends, N5 webhooks), and tests sharing a database scope it to their
    /// account. Guarantee: while a lease runs, no other call returns the same item.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn claim_outbox_of(
        &self,
        kinds: &[OutboxKind],
        account: Option<AccountId>,
        now: Timestamp,
        owner: &str,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedWork<OutboxItem>>, StoreError>;

    /// The account's items of `kind` not done yet, oldest first, claimed or not (for
    /// administration and tests of what a change asked to be done).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn pending_outbox(
        &self,
        account: AccountId,
        kind: OutboxKind,
        limit: u32,
    ) -> Result<Vec<OutboxItem>, StoreError>;

    /// Marks an item done (removed from the queue), if `owner` holds its lease.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn finish_outbox(&self, id: Uuid, owner: &str) -> Result<bool, StoreError>;

    /// Puts an item back for a retry at `due_at`, with the last error, if `owner` holds it.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn retry_outbox(
        &self,
        id: Uuid,
        owner: &str,
        due_at: Timestamp,
        last_error: &str,
    ) -> Result<bool, StoreError>;
}
