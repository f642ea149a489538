//! The notification sender (N3, N4, D11): claims `notification` outbox rows with a lease (one
//! worker per row across processes, `FOR UPDATE SKIP LOCKED` on PostgreSQL) and sends each:
//! emails (offline message, missed conversation, D11's reminder to the task's agent) through the
//! [`StaffMailer`], texts (N4) through the [`StaffTexter`].
//!
//! - **sent**: the row is finished;
//! - **transient failure** (an SMTP 4xx, a refused connection, an SMS 429 or 5xx): the row is
//!   put back with the outbound queue's backoff and jitter ([`DeliveryConfig::backoff`]),
//!   never sooner than the provider's `Retry-After`, until
//!   [`DeliveryConfig::max_attempts`]; then it is finished with the last reason logged;
//! - **permanent failure** (an SMTP 5xx, a bad address or number), a row nobody can send (no
//!   SMTP server or SMS gateway configured, a task's agent that is gone, a payload that does not
//!   read): finished at once, with the reason logged (`tracing` warn).
//!
//! Never two sends of one row: rows are claimed one at a time, under a lease of at least
//! [`LEASE_FLOOR_SECS`], which outlasts one send at the adapters' own timeouts (90 s for SMTP,
//! 30 s for the SMS API), so no other worker takes a row while it is in flight; the row's id is
//! the email's `Message-ID`, so a crash between the server's accept and the row's finish (the
//! one window left) sends a mail that clients show once.
//!
//! [`StaffMailer`]: conversation_core::ports::StaffMailer
//! [`StaffTexter`]: conversation_core::ports::StaffTexter
//! [`DeliveryConfig::backoff`]: crate::delivery::DeliveryConfig::backoff
//! [`DeliveryConfig::max_attempts`]: crate::delivery::DeliveryConfig::max_attempts

use std::time::Duration as StdDuration;

use chrono::Duration;
use conversation_core::ids::AccountId;
use conversation_core::ports::{
    ClaimedWork, DeliveryError, OutboxItem, OutboxKind, StaffEmail, StaffText,
};

use super::Notification;
use crate::app::App;
use crate::error::AppResult;

/// The shortest lease a claimed notification gets, in seconds.
pub const LEASE_FLOOR_SECS: u32 = 150;

/// The setting that turns email notifications on, for the reasons the worker logs.
const EMAIL_OFF: &str =
    "email notifications are off: set INBOX_SMTP_URL and INBOX_SMTP_FROM to send them";
/// The setting that turns SMS notifications on.
const SMS_OFF: &str = "SMS notifications are off: set INBOX_SMS_ACCOUNT_SID, \
                       INBOX_SMS_AUTH_TOKEN and INBOX_SMS_FROM to send them";

/// Sends staff notifications.
#[derive(Clone, Debug)]
pub struct NotificationWorker {
    app: App,
    owner: String,
    account: Option<AccountId>,
}

/// What becomes of a claimed row.
enum Outcome {
    /// Sent.
    Sent(String),
    /// Not sent, never will be: finished, with why.
    Dropped(String),
    /// Tried again later.
    Retry(Duration, String),
}

/// What one row asks to send.
enum Send {
    Email(StaffEmail),
    Text(StaffText),
}

impl NotificationWorker {
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

    /// Works every due notification until none is left; returns how many rows it worked
    /// (sent, dropped or put back for later).
    ///
    /// # Errors
    /// Storage failures of the claim; a row whose work failed on storage keeps its lease and is
    /// claimed again when it runs out.
    pub async fn run_once(&self) -> AppResult<usize> {
        let lease_secs = self.app.config.delivery.lease_secs.max(LEASE_FLOOR_SECS);
        let mut worked = 0;
        loop {
            let now = self.app.now();
            let lease_until = now + Duration::seconds(i64::from(lease_secs));
            let claimed = self
                .app
                .store
                .claim_outbox_of(
                    &[OutboxKind::Notification],
                    self.account,
                    now,
                    &self.owner,
                    lease_until,
                    1,
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
                        "a notification failed on storage; it is retried when its lease runs out"
                    ),
                }
            }
        }
    }

    async fn work(&self, work: &ClaimedWork<OutboxItem>) -> AppResult<()> {
        let item = &work.item;
        let outcome = match self.prepare(item).await? {
            Ok(send) => self.send(send, work.attempts).await,
            Err(reason) => Outcome::Dropped(reason),
        };
        let store = &self.app.store;
        match outcome {
            Outcome::Sent(id) => {
                tracing::info!(outbox = %item.id, provider_id = %id, "notification sent");
                store.finish_outbox(item.id, &self.owner).await?;
            }
            Outcome::Dropped(reason) => {
                tracing::warn!(outbox = %item.id, attempts = work.attempts + 1, %reason,
                    "a notification was not sent and will not be");
                store.finish_outbox(item.id, &self.owner).await?;
            }
            Outcome::Retry(after, reason) => {
                tracing::info!(outbox = %item.id, attempts = work.attempts + 1, %reason,
                    retry_in_ms = after.num_milliseconds(), "a notification will be retried");
                let due = self.app.now() + after;
                store
                    .retry_outbox(item.id, &self.owner, due, &reason)
                    .await?;
            }
        }
        Ok(())
    }

    /// What the row asks to send, or why nothing can be.
    async fn prepare(&self, item: &OutboxItem) -> AppResult<Result<Send, String>> {
        let notification: Notification = match serde_json::from_str(&item.payload) {
            Ok(notification) => notification,
            Err(error) => return Ok(Err(format!("the notification does not read: {error}"))),
        };
        let id = item.id.to_string();
        let email = |recipients: Vec<String>, subject: String, text: String| {
            Ok(Ok(Send::Email(StaffEmail {
                id: id.clone(),
                recipients,
                subject,
                text,
            })))
        };
        match notification {
            Notification::OfflineMessage {
                recipients, text, ..
            } => email(
                recipients,
                "A message arrived while no agent was online".to_owned(),
                text,
            ),
            Notification::MissedConversation {
                recipients, text, ..
            } => email(recipients, "A missed conversation".to_owned(), text),
            Notification::TaskStartsSoon {
                agent,
                title,
                starts_at,
                ..
            } => {
                // D11: to the task's agent, at the address they have now.
                let Some(agent) = self.app.store.agent(item.account, agent).await? else {
                    return Ok(Err("the task's agent no longer exists".to_owned()));
                };
                email(
                    vec![agent.email],
                    format!("Your task starts soon: {title}"),
                    format!(
                        "Your task \"{title}\" starts at {} UTC.",
                        starts_at.format("%Y-%m-%d %H:%M")
                    ),
                )
            }
            Notification::StaffSms { to, text, .. } => {
                Ok(Ok(Send::Text(StaffText { id, to, body: text })))
            }
        }
    }

    async fn send(&self, send: Send, attempts: u32) -> Outcome {
        let sent = match send {
            Send::Email(email) => match self.app.staff_mailer.clone() {
                Some(mailer) => mailer.send(&email).await,
                None => return Outcome::Dropped(EMAIL_OFF.to_owned()),
            },
            Send::Text(text) => match self.app.staff_texter.clone() {
                Some(texter) => texter.send(&text).await,
                None => return Outcome::Dropped(SMS_OFF.to_owned()),
            },
        };
        match sent {
            Ok(id) => Outcome::Sent(id),
            Err(DeliveryError::Permanent { reason }) => Outcome::Dropped(reason),
            Err(DeliveryError::Transient {
                reason,
                retry_after,
            }) => {
                let config = self.app.config.delivery;
                if attempts + 1 >= config.max_attempts {
                    return Outcome::Dropped(format!(
                        "gave up after {} attempts: {reason}",
                        attempts + 1
                    ));
                }
                let mut bytes = [0_u8; 8];
                let _ = getrandom::fill(&mut bytes);
                let after = config.backoff(attempts, u64::from_le_bytes(bytes), retry_after);
                Outcome::Retry(after, reason)
            }
        }
    }

    /// Runs [`NotificationWorker::run_once`] every `every` until the task is aborted.
    #[must_use]
    pub fn spawn(self, every: StdDuration) -> tokio::task::JoinHandle<()> {
        crate::polling::spawn_rounds(
            "the notification worker could not claim its work",
            every,
            move || {
                let worker = self.clone();
                async move { worker.run_once().await }
            },
        )
    }
}
