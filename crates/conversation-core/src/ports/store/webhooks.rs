//! Outgoing webhooks for integrations (N5, C10): an account's subscriptions, the deliveries
//! fanned out to them (one per subscription and event, however often the fan-out runs), each
//! delivery's attempts (the log), and the cursor of the account's event log up to which events
//! were fanned out.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::commit::StoreError;
use super::work::OutboxItem;
use crate::Timestamp;
use crate::ids::AccountId;

/// A subscription: where an account's events of some types are posted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookSubscription {
    /// Its id.
    pub id: Uuid,
    /// The account.
    pub account: AccountId,
    /// Where deliveries are posted.
    pub url: String,
    /// The signing secret (shown once, at creation).
    pub secret: String,
    /// The event types it receives (`order.created`, `message.created`, ...).
    pub events: Vec<String>,
    /// When it was created: it receives events from then on.
    pub created_at: Timestamp,
    /// When it was deleted; its log stays readable.
    pub deleted_at: Option<Timestamp>,
}

/// Where a delivery is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookDeliveryStatus {
    /// Not delivered yet (retried with backoff).
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up.
    Failed,
}

/// One event for one subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// Its id (also the `Idempotency-Key` the receiver gets).
    pub id: Uuid,
    /// The account.
    pub account: AccountId,
    /// The subscription.
    pub subscription: Uuid,
    /// The event's id: unique per subscription.
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// The JSON body posted.
    pub body: String,
    /// Where it is.
    pub status: WebhookDeliveryStatus,
    /// Attempts so far.
    pub attempts: u32,
    /// The last answer's status code, if there was an answer.
    pub last_status_code: Option<u16>,
    /// The last error, if any.
    pub last_error: Option<String>,
    /// When it was fanned out.
    pub created_at: Timestamp,
    /// When it was last tried.
    pub last_attempt_at: Option<Timestamp>,
    /// When it was delivered.
    pub delivered_at: Option<Timestamp>,
}

/// One attempt of a delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookAttempt {
    /// Its number, from 1.
    pub attempt: u32,
    /// When it was made.
    pub at: Timestamp,
    /// The receiver's status code, if it answered.
    pub status_code: Option<u16>,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

/// Deliveries to write, each with the outbox row that sends it, and the event-log cursor to move
/// with them: all in one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookFanOut {
    /// The account.
    pub account: AccountId,
    /// Move the cursor from the first to the second position; nothing is written when it is no
    /// longer at the first (another process fanned out meanwhile).
    pub cursor: Option<(u64, u64)>,
    /// The deliveries with their outbox rows. A delivery whose (subscription, event id) exists
    /// is skipped with its row.
    pub deliveries: Vec<(WebhookDelivery, OutboxItem)>,
}

/// Subscriptions, deliveries and their log.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Inserts or updates a subscription of its account.
    ///
    /// # Errors
    /// Storage failures.
    async fn save_subscription(&self, subscription: &WebhookSubscription)
    -> Result<(), StoreError>;

    /// The account's subscriptions, deleted ones included, oldest first.
    ///
    /// # Errors
    /// Storage failures.
    async fn subscriptions(
        &self,
        account: AccountId,
    ) -> Result<Vec<WebhookSubscription>, StoreError>;

    /// The accounts with at least one subscription that is not deleted.
    ///
    /// # Errors
    /// Storage failures.
    async fn webhook_accounts(&self) -> Result<Vec<AccountId>, StoreError>;

    /// The account's cursor, created at the end of its event log when it has none yet.
    ///
    /// # Errors
    /// Storage failures.
    async fn webhook_cursor(&self, account: AccountId) -> Result<u64, StoreError>;

    /// Writes a fan-out; answers `false` when the cursor had moved (nothing written).
    ///
    /// # Errors
    /// Storage failures.
    async fn fan_out_webhooks(&self, fan_out: &WebhookFanOut) -> Result<bool, StoreError>;

    /// One delivery of the account.
    ///
    /// # Errors
    /// Storage failures.
    async fn webhook_delivery(
        &self,
        account: AccountId,
        id: Uuid,
    ) -> Result<Option<WebhookDelivery>, StoreError>;

    /// Records an attempt and the delivery's new status.
    ///
    /// # Errors
    /// Storage failures.
    async fn record_webhook_attempt(
        &self,
        account: AccountId,
        delivery: Uuid,
        attempt: &WebhookAttempt,
        status: WebhookDeliveryStatus,
    ) -> Result<(), StoreError>;

    /// A subscription's deliveries, newest first.
    ///
    /// # Errors
    /// Storage failures.
    async fn webhook_deliveries(
        &self,
        account: AccountId,
        subscription: Uuid,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, StoreError>;

    /// A delivery's attempts, in order.
    ///
    /// # Errors
    /// Storage failures.
    async fn webhook_attempts(
        &self,
        account: AccountId,
        delivery: Uuid,
    ) -> Result<Vec<WebhookAttempt>, StoreError>;
}
