//! N5: the webhook worker. Each round it fans out the new events of every account with a
//! subscription ([`App::fan_out_log`]), then claims `webhook` outbox rows with a lease (one
//! worker per row across processes) and posts each delivery, signed, with its id as the
//! `Idempotency-Key`. A 2xx answer delivers it; any other answer or none is retried with the
//! outbound queue's backoff, up to its maximum of attempts, then the delivery is `failed`.
//! Every attempt is logged with its status code and error.

use std::time::Duration as StdDuration;

use chrono::Duration;
use conversation_core::ids::AccountId;
use conversation_core::ports::{
    ClaimedWork, OutboxItem, OutboxKind, PostOutcome, WebhookAttempt, WebhookDeliveryStatus,
    WebhookPost,
};

use super::fanout::SendDelivery;
use crate::app::App;
use crate::error::{AppError, AppResult};

/// Fans out events and sends webhook deliveries.
#[derive(Clone, Debug)]
pub struct WebhookWorker {
    app: App,
    owner: String,
    account: Option<AccountId>,
}

/// What becomes of a claimed row.
enum Outcome {
    Done,
    Retry(Duration, String),
}

impl WebhookWorker {
    /// A worker for the app, named `owner` in the leases it takes (unique per process).
    #[must_use]
    pub fn new(app: App, owner: impl Into<String>) -> Self {
        Self {
            app,
            owner: owner.into(),
            account: None,
        }
    }

    /// A worker for one account only (tests sharing one database).
    #[must_use]
    pub fn for_account(app: App, owner: impl Into<String>, account: AccountId) -> Self {
        Self {
            app,
            owner: owner.into(),
            account: Some(account),
        }
    }

    /// One round: fan out, then send every due delivery; returns how many rows it worked.
    ///
    /// # Errors
    /// Storage failures of the fan-out or the claim.
    pub async fn run_once(&self) -> AppResult<usize> {
        let accounts = match self.account {
            Some(account) => vec![account],
            None => self.app.store.webhook_accounts().await?,
        };
        for account in accounts {
            self.app.fan_out_log(account).await?;
        }
        let mut worked = 0;
        loop {
            let now = self.app.now();
            let lease_until =
                now + Duration::seconds(i64::from(self.app.config.delivery.lease_secs));
            let claimed = self
                .app
                .store
                .claim_outbox_of(
                    &[OutboxKind::Webhook],
                    self.account,
                    now,
                    &self.owner,
                    lease_until,
                    self.app.config.delivery.batch.max(1),
                )
                .await?;
            if claimed.is_empty() {
                return Ok(worked);
            }
            for work in claimed {
                match self.work(&work).await {
                    Ok(()) => worked += 1,
                    Err(error) => tracing::warn!(
                        outbox = %work.item.id,
                        %error,
                        "a webhook failed on storage; it is retried when its lease runs out"
                    ),
                }
            }
        }
    }

    async fn work(&self, work: &ClaimedWork<OutboxItem>) -> AppResult<()> {
        let outcome = match serde_json::from_str::<SendDelivery>(&work.item.payload) {
            Ok(send) => self.send(work.item.account, send, work.attempts).await?,
            // C10: the order's own row: fanned out to the subscriptions of `order.created`.
            Err(_) => {
                self.app.fan_out_order(&work.item).await?;
                Outcome::Done
            }
        };
        match outcome {
            Outcome::Done => {
                self.app
                    .store
                    .finish_outbox(work.item.id, &self.owner)
                    .await?;
            }
            Outcome::Retry(after, reason) => {
                let due = self.app.now() + after;
                self.app
                    .store
                    .retry_outbox(work.item.id, &self.owner, due, &reason)
                    .await?;
            }
        }
        Ok(())
    }

    async fn send(
        &self,
        account: AccountId,
        send: SendDelivery,
        attempts: u32,
    ) -> AppResult<Outcome> {
        let store = &self.app.store;
        let Some(delivery) = store.webhook_delivery(account, send.delivery).await? else {
            return Ok(Outcome::Done);
        };
        if delivery.status != WebhookDeliveryStatus::Pending {
            return Ok(Outcome::Done);
        }
        let attempt_no = delivery.attempts + 1;
        let now = self.app.now();
        let subscription = store
            .subscriptions(account)
            .await?
            .into_iter()
            .find(|s| s.id == delivery.subscription);
        let Some(subscription) = subscription.filter(|s| s.deleted_at.is_none()) else {
            let attempt = WebhookAttempt {
                attempt: attempt_no,
                at: now,
                status_code: None,
                error: Some("the subscription was deleted".into()),
            };
            store
                .record_webhook_attempt(
                    account,
                    delivery.id,
                    &attempt,
                    WebhookDeliveryStatus::Failed,
                )
                .await?;
            return Ok(Outcome::Done);
        };
        let Some(poster) = self.app.webhook_poster.clone() else {
            return Err(AppError::Internal("no webhook poster is configured".into()));
        };
        let headers = [
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("X-Inbox-Event".to_owned(), delivery.event_type.clone()),
            ("X-Inbox-Delivery".to_owned(), delivery.id.to_string()),
            ("Idempotency-Key".to_owned(), delivery.id.to_string()),
        ];
        let outcome = poster
            .post(&WebhookPost {
                url: &subscription.url,
                headers: &headers,
                body: delivery.body.as_bytes(),
                secret: &subscription.secret,
                timestamp: now.timestamp(),
            })
            .await;
        let (status_code, error) = match &outcome {
            PostOutcome::Answered(code) if (200..300).contains(code) => (Some(*code), None),
            PostOutcome::Answered(code) => {
                (Some(*code), Some(format!("the receiver answered {code}")))
            }
            PostOutcome::NoAnswer(reason) => (None, Some(reason.clone())),
        };
        let last = attempts + 1 >= self.app.config.delivery.max_attempts;
        let status = match (&error, last) {
            (None, _) => WebhookDeliveryStatus::Delivered,
            (Some(_), true) => WebhookDeliveryStatus::Failed,
            (Some(_), false) => WebhookDeliveryStatus::Pending,
        };
        let attempt = WebhookAttempt {
            attempt: attempt_no,
            at: now,
            status_code,
            error: error.clone(),
        };
        store
            .record_webhook_attempt(account, delivery.id, &attempt, status)
            .await?;
        Ok(match (error, status) {
            (Some(reason), WebhookDeliveryStatus::Pending) => {
                let mut bytes = [0_u8; 8];
                let _ = getrandom::fill(&mut bytes);
                let after =
                    self.app
                        .config
                        .delivery
                        .backoff(attempts, u64::from_le_bytes(bytes), None);
                Outcome::Retry(after, reason)
            }
            _ => Outcome::Done,
        })
    }

    /// Runs [`WebhookWorker::run_once`] every `every` until the task is aborted.
    #[must_use]
    pub fn spawn(self, every: StdDuration) -> tokio::task::JoinHandle<()> {
        crate::polling::spawn_rounds(
            "the webhook worker could not do its round",
            every,
            move || {
                let worker = self.clone();
                async move { worker.run_once().await }
            },
        )
    }
}
