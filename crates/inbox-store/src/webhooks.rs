//! `WebhookStore` (N5, C10): subscriptions, deliveries with their attempts, and the event-log
//! cursor of each account. A fan-out is one transaction: the cursor moves only from where the
//! fan-out read it (a concurrent fan-out of another process writes nothing and reads again),
//! and a delivery is inserted once per (subscription, event id) by `webhook_deliveries_once`,
//! with its outbox row only when it was inserted.

use async_trait::async_trait;
use conversation_core::ids::AccountId;
use conversation_core::ports::{
    OutboxKind, StoreError, WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus, WebhookFanOut,
    WebhookStore, WebhookSubscription,
};
use uuid::Uuid;

use crate::directory::{int_as, name_of, parse_name, write_error};
use crate::error::{OrStoreError, StoreResult, json_error};
use crate::open::SqlStore;
use crate::rows::to_json;
use crate::sql::{Arg, Row, args};

const SUBSCRIPTION: &str = "id, account_id, url, secret, events, created_at, deleted_at";
const DELIVERY: &str = "id, account_id, subscription_id, event_id, event_type, body, status, \
                        attempts, last_status_code, last_error, created_at, last_attempt_at, \
                        delivered_at";

fn subscription(row: &Row) -> StoreResult<WebhookSubscription> {
    Ok(WebhookSubscription {
        id: row.uuid("id").store()?,
        account: AccountId::from_uuid(row.uuid("account_id").store()?),
        url: row.text("url").store()?,
        secret: row.text("secret").store()?,
        events: serde_json::from_str(&row.text("events").store()?).map_err(json_error)?,
        created_at: row.time("created_at").store()?,
        deleted_at: row.opt_time("deleted_at").store()?,
    })
}

fn delivery(row: &Row) -> StoreResult<WebhookDelivery> {
    Ok(WebhookDelivery {
        id: row.uuid("id").store()?,
        account: AccountId::from_uuid(row.uuid("account_id").store()?),
        subscription: row.uuid("subscription_id").store()?,
        event_id: row.text("event_id").store()?,
        event_type: row.text("event_type").store()?,
        body: row.text("body").store()?,
        status: parse_name(row, "status")?,
        attempts: int_as(row, "attempts")?,
        last_status_code: row
            .opt_int("last_status_code")
            .store()?
            .and_then(|code| u16::try_from(code).ok()),
        last_error: row.opt_text("last_error").store()?,
        created_at: row.time("created_at").store()?,
        last_attempt_at: row.opt_time("last_attempt_at").store()?,
        delivered_at: row.opt_time("delivered_at").store()?,
    })
}

fn position(value: u64) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| StoreError::Internal("cursor out of range".into()))
}

#[async_trait]
impl WebhookStore for SqlStore {
    async fn save_subscription(&self, s: &WebhookSubscription) -> Result<(), StoreError> {
        self.db
            .execute(
                "INSERT INTO webhook_subscriptions (id, account_id, url, secret, events, \
                 created_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (id) DO UPDATE SET url = excluded.url, events = excluded.events, \
                 deleted_at = excluded.deleted_at \
                 WHERE webhook_subscriptions.account_id = excluded.account_id",
                &args![
                    s.id,
                    s.account,
                    s.url.as_str(),
                    s.secret.as_str(),
                    to_json(&s.events)?,
                    s.created_at,
                    s.deleted_at
                ],
            )
            .await
            .map_err(write_error)?;
        Ok(())
    }

    async fn subscriptions(
        &self,
        account: AccountId,
    ) -> Result<Vec<WebhookSubscription>, StoreError> {
        self.db
            .fetch_all(
                &format!(
                    "SELECT {SUBSCRIPTION} FROM webhook_subscriptions WHERE account_id = $1 \
                     ORDER BY created_at, id"
                ),
                &args![account],
            )
            .await
            .store()?
            .iter()
            .map(subscription)
            .collect()
    }

    async fn webhook_accounts(&self) -> Result<Vec<AccountId>, StoreError> {
        self.db
            .fetch_all(
                "SELECT DISTINCT account_id FROM webhook_subscriptions WHERE deleted_at IS NULL",
                &[],
            )
            .await
            .store()?
            .iter()
            .map(|row| Ok(AccountId::from_uuid(row.uuid("account_id").store()?)))
            .collect()
    }

    async fn webhook_cursor(&self, account: AccountId) -> Result<u64, StoreError> {
        self.db
            .execute(
                "INSERT INTO webhook_cursors (account_id, position) \
                 SELECT $1, COALESCE(MAX(seq), 0) FROM events WHERE account_id = $1 \
                 ON CONFLICT (account_id) DO NOTHING",
                &args![account],
            )
            .await
            .map_err(write_error)?;
        let row = self
            .db
            .fetch_optional(
                "SELECT position FROM webhook_cursors WHERE account_id = $1",
                &args![account],
            )
            .await
            .store()?
            .ok_or_else(|| StoreError::Internal("no webhook cursor".into()))?;
        int_as(&row, "position")
    }

    async fn fan_out_webhooks(&self, fan_out: &WebhookFanOut) -> Result<bool, StoreError> {
        let account = fan_out.account;
        let mut tx = self.db.begin().await.store()?;
        if let Some((from, to)) = fan_out.cursor {
            let moved = tx
                .execute(
                    "UPDATE webhook_cursors SET position = $3 \
                     WHERE account_id = $1 AND position = $2",
                    &args![account, position(from)?, position(to)?],
                )
                .await
                .map_err(write_error)?;
            if moved == 0 {
                drop(tx);
                return Ok(false);
            }
        }
        for (d, item) in &fan_out.deliveries {
            let inserted = tx
                .execute(
                    "INSERT INTO webhook_deliveries (id, account_id, subscription_id, event_id, \
                     event_type, body, status, attempts, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8) \
                     ON CONFLICT (subscription_id, event_id) DO NOTHING",
                    &args![
                        d.id,
                        account,
                        d.subscription,
                        d.event_id.as_str(),
                        d.event_type.as_str(),
                        d.body.as_str(),
                        name_of(&d.status)?,
                        d.created_at
                    ],
                )
                .await
                .map_err(write_error)?;
            if inserted > 0 {
                tx.execute(
                    "INSERT INTO outbox (id, account_id, kind, payload, due_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                    &args![
                        item.id,
                        account,
                        name_of(&OutboxKind::Webhook)?,
                        item.payload.as_str(),
                        item.due_at
                    ],
                )
                .await
                .map_err(write_error)?;
            }
        }
        tx.commit().await.map_err(write_error)?;
        Ok(true)
    }

    async fn webhook_delivery(
        &self,
        account: AccountId,
        id: Uuid,
    ) -> Result<Option<WebhookDelivery>, StoreError> {
        self.db
            .fetch_optional(
                &format!(
                    "SELECT {DELIVERY} FROM webhook_deliveries WHERE id = $1 AND account_id = $2"
                ),
                &args![id, account],
            )
            .await
            .store()?
            .map(|row| delivery(&row))
            .transpose()
    }

    async fn record_webhook_attempt(
        &self,
        account: AccountId,
        id: Uuid,
        attempt: &WebhookAttempt,
        status: WebhookDeliveryStatus,
    ) -> Result<(), StoreError> {
        let code = attempt.status_code.map(i64::from);
        let delivered = (status == WebhookDeliveryStatus::Delivered).then_some(attempt.at);
        let mut tx = self.db.begin().await.store()?;
        tx.execute(
            "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error) \
             SELECT id, $3, $4, $5, $6 FROM webhook_deliveries WHERE id = $1 AND account_id = $2 \
             ON CONFLICT (delivery_id, attempt) DO NOTHING",
            &args![
                id,
                account,
                attempt.attempt,
                attempt.at,
                Arg::Int(code),
                attempt.error.clone()
            ],
        )
        .await
        .map_err(write_error)?;
        tx.execute(
            "UPDATE webhook_deliveries SET status = $3, attempts = $4, last_status_code = $5, \
             last_error = $6, last_attempt_at = $7, delivered_at = COALESCE(delivered_at, $8) \
             WHERE id = $1 AND account_id = $2",
            &args![
                id,
                account,
                name_of(&status)?,
                attempt.attempt,
                Arg::Int(code),
                attempt.error.clone(),
                attempt.at,
                delivered
            ],
        )
        .await
        .map_err(write_error)?;
        tx.commit().await.map_err(write_error)?;
        Ok(())
    }

    async fn webhook_deliveries(
        &self,
        account: AccountId,
        subscription: Uuid,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        self.db
            .fetch_all(
                &format!(
                    "SELECT {DELIVERY} FROM webhook_deliveries \
                     WHERE account_id = $1 AND subscription_id = $2 \
                     ORDER BY created_at DESC, id DESC LIMIT $3"
                ),
                &args![account, subscription, limit],
            )
            .await
            .store()?
            .iter()
            .map(delivery)
            .collect()
    }

    async fn webhook_attempts(
        &self,
        account: AccountId,
        id: Uuid,
    ) -> Result<Vec<WebhookAttempt>, StoreError> {
        self.db
            .fetch_all(
                "SELECT a.attempt, a.at, a.status_code, a.error FROM webhook_attempts a \
                 JOIN webhook_deliveries d ON d.id = a.delivery_id \
                 WHERE a.delivery_id = $1 AND d.account_id = $2 ORDER BY a.attempt",
                &args![id, account],
            )
            .await
            .store()?
            .iter()
            .map(|row| {
                Ok(WebhookAttempt {
                    attempt: int_as(row, "attempt")?,
                    at: row.time("at").store()?,
                    status_code: row
                        .opt_int("status_code")
                        .store()?
                        .and_then(|code| u16::try_from(code).ok()),
                    error: row.opt_text("error").store()?,
                })
            })
            .collect()
    }
}
