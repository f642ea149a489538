//! Outgoing webhooks for integrations (N5, C10, M10): an account's owners and admins subscribe
//! URLs to event types; each event is posted as JSON, signed (HMAC-SHA256 over
//! `"{timestamp}.{body}"` under the subscription's secret, shown once at creation), retried
//! with backoff through the outbox, and every attempt is kept in a delivery log read over the API.
//!
//! Where the fan-out happens ([`fanout`]): the event log is the source (the architecture's
//! "webhooks are sent from the event log"). The worker reads each subscribed account's events
//! after its stored cursor and writes, in one transaction, a delivery row per matching
//! subscription, its outbox row, and the cursor's new position; a concurrent fan-out of another
//! process finds the cursor moved and writes nothing. `order.created` (C10) starts from the
//! outbox row the order's own commit writes (it carries the whole order), fanned out the same
//! way. Each delivery is then sent by [`worker::WebhookWorker`].

pub mod fanout;
pub mod worker;

use conversation_core::DomainError;
use conversation_core::ports::{WebhookAttempt, WebhookDelivery, WebhookSubscription};
use uuid::Uuid;

use crate::app::App;
use crate::caller::Caller;
use crate::directory::manager_of;
use crate::error::AppResult;
use crate::secrets::{TokenKind, new_token};

/// The event types a subscription may name.
pub const EVENT_TYPES: [&str; 4] = [
    "conversation.created",
    "conversation.resolved",
    "message.created",
    "order.created",
];

/// A new subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewWebhook {
    /// Where to post (`http` or `https`).
    pub url: String,
    /// Event types, from [`EVENT_TYPES`].
    pub events: Vec<String>,
}

/// A delivery with its attempts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryLog {
    /// The delivery.
    pub delivery: WebhookDelivery,
    /// Its attempts, in order.
    pub attempts: Vec<WebhookAttempt>,
}

fn check_url(url: &str) -> AppResult<String> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty() && !rest.starts_with('/') && !url.contains(char::is_whitespace) =>
        {
            Ok(url.to_owned())
        }
        _ => Err(DomainError::InvalidValue {
            field: "url",
            reason: "must be an http or https address",
        }
        .into()),
    }
}

fn check_events(events: &[String]) -> AppResult<Vec<String>> {
    let mut checked: Vec<String> = Vec::new();
    for event in events {
        if !EVENT_TYPES.contains(&event.as_str()) {
            return Err(DomainError::InvalidValue {
                field: "events",
                reason: "names an unknown event type: use conversation.created, \
                         conversation.resolved, message.created or order.created",
            }
            .into());
        }
        if !checked.contains(event) {
            checked.push(event.clone());
        }
    }
    if checked.is_empty() {
        return Err(DomainError::MissingField { field: "events" }.into());
    }
    Ok(checked)
}

impl App {
    /// N5: subscribes a URL to event types (owners and admins). The answer carries the signing
    /// secret; it is never shown again.
    ///
    /// # Errors
    /// `forbidden`; `invalid_value` (url, events); `missing_field` (events).
    pub async fn create_webhook(
        &self,
        caller: &Caller,
        new: NewWebhook,
    ) -> AppResult<WebhookSubscription> {
        let (account, _) = manager_of(caller, "manage webhooks")?;
        let subscription = WebhookSubscription {
            id: self.new_id(),
            account,
            url: check_url(&new.url)?,
            secret: format!(
                "whsec_{}",
                new_token(TokenKind::ApiToken)?.trim_start_matches("iat_")
            ),
            events: check_events(&new.events)?,
            created_at: self.now(),
            deleted_at: None,
        };
        // The account's fan-out starts at the end of its log: no history is replayed.
        self.store.webhook_cursor(account).await?;
        self.store.save_subscription(&subscription).await?;
        Ok(subscription)
    }

    /// N5: the account's subscriptions that are not deleted (owners and admins).
    ///
    /// # Errors
    /// `forbidden`.
    pub async fn webhooks(&self, caller: &Caller) -> AppResult<Vec<WebhookSubscription>> {
        let (account, _) = manager_of(caller, "manage webhooks")?;
        Ok(self
            .store
            .subscriptions(account)
            .await?
            .into_iter()
            .filter(|s| s.deleted_at.is_none())
            .collect())
    }

    /// N5: one subscription of the account, not deleted.
    async fn webhook(&self, caller: &Caller, id: Uuid) -> AppResult<WebhookSubscription> {
        self.webhooks(caller)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| DomainError::NotFound.into())
    }

    /// N5: deletes a subscription (owners and admins): nothing more is fanned out or sent to
    /// it. Its rows are kept.
    ///
    /// # Errors
    /// `forbidden`; `not_found` (S1).
    pub async fn delete_webhook(&self, caller: &Caller, id: Uuid) -> AppResult<()> {
        let mut subscription = self.webhook(caller, id).await?;
        subscription.deleted_at = Some(self.now());
        self.store.save_subscription(&subscription).await?;
        Ok(())
    }

    /// N5: a subscription's delivery log, newest first, with every attempt (owners and
    /// admins).
    ///
    /// # Errors
    /// `forbidden`; `not_found` (S1).
    pub async fn webhook_log(
        &self,
        caller: &Caller,
        id: Uuid,
        limit: u32,
    ) -> AppResult<Vec<DeliveryLog>> {
        let subscription = self.webhook(caller, id).await?;
        let account = subscription.account;
        let deliveries = self
            .store
            .webhook_deliveries(account, id, limit.clamp(1, 200))
            .await?;
        let mut log = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            let attempts = self.store.webhook_attempts(account, delivery.id).await?;
            log.push(DeliveryLog { delivery, attempts });
        }
        Ok(log)
    }
}
