//! The durable outbound queue (H3, M5, M6, W7): a worker claims `delivery`, `unsend` and
//! `continuity_email` (W7, `continuity`) outbox rows
//! with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL: one worker owns a row at a time, across
//! processes) and calls the inbox's channel adapter after the commit, never inside one.
//!
//! - **success**: the message becomes `sent` with the provider's id (matched later by status
//!   reports, M6, and used to unsend, M5), then the row is finished;
//! - **transient failure** (timeouts, 5xx, 429): the row is put back with exponential backoff
//!   and full jitter, never sooner than the provider's `Retry-After`; after
//!   [`DeliveryConfig::max_attempts`] the message becomes `failed` with the last reason;
//! - **permanent failure**: the message becomes `failed` with the provider's reason (an event,
//!   visible in the API).
//!
//! Never two sends of one message: the lease keeps every other worker off the row while it is
//! sent (a claim's few rows are sent one after the other, and the lease outlasts all of them at
//! the adapters' HTTP timeout, see [`DeliveryConfig::lease_secs`]); a row is only sent while its
//! message is still `pending` (a row claimed again after a crash that followed the `sent`
//! commit finds the message `sent` and is finished without a send); and the message id is the
//! idempotency key adapters pass on where the provider takes one. The one window left, a crash
//! between the provider's accept and our `sent` commit, is written down in `docs/channels.md`.
//!
//! The server spawns one worker ([`DeliveryWorker::spawn`]); tests call
//! [`DeliveryWorker::run_once`].

mod continuity;
mod send;
mod status;

use std::time::Duration as StdDuration;

use chrono::Duration;
use conversation_core::ids::AccountId;
use conversation_core::ports::{ClaimedWork, OutboxItem, OutboxKind};

use crate::app::App;
use crate::error::AppResult;

/// How the queue retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryConfig {
    /// Attempts before a transiently failing delivery becomes `failed`.
    pub max_attempts: u32,
    /// The first retry's delay, in milliseconds; each next one doubles, up to `max_backoff_ms`.
    pub base_backoff_ms: u64,
    /// The longest delay between two attempts, in milliseconds.
    pub max_backoff_ms: u64,
    /// How long a claimed row is leased to its worker, in seconds. A claim's rows are sent one
    /// after the other, so the lease must outlast `batch` sends at the adapters' HTTP timeout
    /// (`inbox-server` sets it from `INBOX_CHANNEL_TIMEOUT_SECS`): no row's lease runs out
    /// while its worker may still send it.
    pub lease_secs: u32,
    /// How many rows one claim takes.
    pub batch: u32,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_backoff_ms: 2_000,
            max_backoff_ms: 15 * 60 * 1_000,
            lease_secs: 120,
            batch: 4,
        }
    }
}

impl DeliveryConfig {
    /// The delay before the retry that follows attempt `attempt` (0 for the first): the
    /// window doubles per attempt up to the cap; the delay is its upper half, jittered by
    /// `random` (any number; the caller draws it), never below `retry_after`.
    #[must_use]
    pub fn backoff(self, attempt: u32, random: u64, retry_after: Option<Duration>) -> Duration {
        let window = self
            .base_backoff_ms
            .saturating_mul(1_u64 << attempt.min(30))
            .min(self.max_backoff_ms);
        let half = window / 2;
        // Half fixed, half jittered: workers that failed together do not retry together.
        let jittered = half + random % (window - half + 1);
        let delay = Duration::milliseconds(i64::try_from(jittered).unwrap_or(i64::MAX));
        retry_after.map_or(delay, |after| delay.max(after))
    }
}

/// Delivers outbound messages and unsends deleted ones.
#[derive(Clone, Debug)]
pub struct DeliveryWorker {
    app: App,
    owner: String,
    account: Option<AccountId>,
}

impl DeliveryWorker {
    /// A worker for the app, named `owner` in the leases it takes (unique per process).
    #[must_use]
    pub fn new(app: App, owner: impl Into<String>) -> Self {
        Self {
            app,
            owner: owner.into(),
            account: None,
        }
    }

    /// A worker for the rows of one account only (tests sharing one database).
    #[must_use]
    pub fn for_account(app: App, owner: impl Into<String>, account: AccountId) -> Self {
        Self {
            app,
            owner: owner.into(),
            account: Some(account),
        }
    }

    /// Works every due row until none is left; returns how many rows it worked (sent, failed,
    /// retried later or finished).
    ///
    /// # Errors
    /// Storage failures of the claim; a row whose work failed on storage keeps its lease and is
    /// claimed again when it runs out.
    pub async fn run_once(&self) -> AppResult<usize> {
        let mut worked = 0;
        loop {
            let now = self.app.now();
            let lease_until =
                now + Duration::seconds(i64::from(self.app.config.delivery.lease_secs));
            let claimed = self
                .app
                .store
                .claim_outbox_of(
                    &[
                        OutboxKind::Delivery,
                        OutboxKind::Unsend,
                        OutboxKind::ContinuityEmail,
                    ],
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
                let id = work.item.id;
                match self.work(&work).await {
                    Ok(()) => worked += 1,
                    Err(error) => tracing::warn!(
                        outbox = %id,
                        attempts = work.attempts,
                        %error,
                        "a delivery failed on storage; it is retried when its lease runs out"
                    ),
                }
            }
        }
    }

    async fn work(&self, work: &ClaimedWork<OutboxItem>) -> AppResult<()> {
        let outcome = match work.item.kind {
            OutboxKind::Delivery => self.app.deliver(&work.item, work.attempts).await?,
            OutboxKind::Unsend => self.app.unsend(&work.item, work.attempts).await?,
            OutboxKind::ContinuityEmail => {
                self.app.continuity_email(&work.item, work.attempts).await?
            }
            OutboxKind::Webhook | OutboxKind::Notification => send::Outcome::Done,
        };
        let store = &self.app.store;
        match outcome {
            send::Outcome::Done => {
                store.finish_outbox(work.item.id, &self.owner).await?;
            }
            send::Outcome::Retry { after, reason } => {
                let due = self.app.now() + after;
                store
                    .retry_outbox(work.item.id, &self.owner, due, &reason)
                    .await?;
            }
        }
        Ok(())
    }

    /// Runs [`DeliveryWorker::run_once`] every `every` until the task is aborted.
    #[must_use]
    pub fn spawn(self, every: StdDuration) -> tokio::task::JoinHandle<()> {
        crate::polling::spawn_rounds(
            "the delivery worker could not claim its work",
            every,
            move || {
                let worker = self.clone();
                async move { worker.run_once().await }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h3_backoff_doubles_with_jitter_up_to_the_cap_and_honours_retry_after() {
        let config = DeliveryConfig {
            max_attempts: 5,
            base_backoff_ms: 1_000,
            max_backoff_ms: 10_000,
            lease_secs: 60,
            batch: 4,
        };
        let ms = Duration::milliseconds;
        assert_eq!(config.backoff(0, 0, None), ms(500));
        assert_eq!(config.backoff(0, 500, None), ms(1_000));
        assert_eq!(config.backoff(0, 501, None), ms(500));
        assert_eq!(config.backoff(2, 2_000, None), ms(4_000));
        assert_eq!(config.backoff(2, 0, None), ms(2_000));
        assert_eq!(config.backoff(9, 5_000, None), ms(10_000));
        assert_eq!(config.backoff(30, 0, None), ms(5_000));
        assert_eq!(
            config.backoff(0, 7, Some(Duration::seconds(30))),
            Duration::seconds(30)
        );
    }
}
