//! N5: turning events into deliveries. The account's event log after its cursor is read in
//! pages; each event of a subscribed type becomes one delivery per subscription that names it
//! and existed when the event happened; the deliveries, their outbox rows and the cursor's new
//! position are written in one transaction (`WebhookStore::fan_out_webhooks`). Private notes
//! never become `message.created` (M10).
//!
//! The body of every delivery: `{"id": <event id>, "type": <event type>, "created_at": <time>,
//! "account": <account id>, "data": {...}}`.

use conversation_core::DomainEvent;
use conversation_core::Timestamp;
use conversation_core::conversation::ConversationEventKind;
use conversation_core::ids::AccountId;
use conversation_core::message::MessageKind;
use conversation_core::ports::{
    OutboxItem, OutboxKind, StoredEvent, WebhookDelivery, WebhookDeliveryStatus, WebhookFanOut,
    WebhookSubscription,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::app::App;
use crate::error::{AppError, AppResult};

/// How many events one page of the fan-out reads.
const PAGE: u32 = 200;

/// The payload of a webhook outbox row: the delivery to send.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SendDelivery {
    /// The delivery.
    pub delivery: Uuid,
}

/// One event, ready to post.
struct Outgoing {
    id: String,
    kind: &'static str,
    at: Timestamp,
    data: Value,
}

impl App {
    /// Fans out the account's new events to its subscriptions; returns how many deliveries
    /// were written.
    pub(crate) async fn fan_out_log(&self, account: AccountId) -> AppResult<usize> {
        let subscriptions = self.live_subscriptions(account).await?;
        if subscriptions.is_empty() {
            return Ok(0);
        }
        let mut written = 0;
        loop {
            let from = self.store.webhook_cursor(account).await?;
            let events = self.store.events_after(account, from, PAGE).await?;
            let Some(to) = events.last().map(|e| e.sequence) else {
                return Ok(written);
            };
            let mut outgoing = Vec::new();
            for event in &events {
                if let Some(event) = self.outgoing(account, event).await? {
                    outgoing.push(event);
                }
            }
            let deliveries = self.deliveries(account, &subscriptions, &outgoing)?;
            let count = deliveries.len();
            let fan_out = WebhookFanOut {
                account,
                cursor: Some((from, to)),
                deliveries,
            };
            if self.store.fan_out_webhooks(&fan_out).await? {
                written += count;
            }
        }
    }

    /// C10: fans out an `order.created` outbox row written by the order's commit.
    pub(crate) async fn fan_out_order(&self, item: &OutboxItem) -> AppResult<usize> {
        let payload: Value = serde_json::from_str(&item.payload).map_err(AppError::internal)?;
        let order = payload.get("order").cloned().unwrap_or(Value::Null);
        let Some(order_id) = order.get("id").and_then(Value::as_str) else {
            return Err(AppError::Internal(
                "an order.created row without an order".into(),
            ));
        };
        let at = order
            .get("created_at")
            .and_then(|v| serde_json::from_value::<Timestamp>(v.clone()).ok())
            .unwrap_or(item.due_at);
        let subscriptions = self.live_subscriptions(item.account).await?;
        let outgoing = [Outgoing {
            id: format!("order.created:{order_id}"),
            kind: "order.created",
            at,
            data: order,
        }];
        let deliveries = self.deliveries(item.account, &subscriptions, &outgoing)?;
        let count = deliveries.len();
        self.store
            .fan_out_webhooks(&WebhookFanOut {
                account: item.account,
                cursor: None,
                deliveries,
            })
            .await?;
        Ok(count)
    }

    async fn live_subscriptions(&self, account: AccountId) -> AppResult<Vec<WebhookSubscription>> {
        Ok(self
            .store
            .subscriptions(account)
            .await?
            .into_iter()
            .filter(|s| s.deleted_at.is_none())
            .collect())
    }

    fn deliveries(
        &self,
        account: AccountId,
        subscriptions: &[WebhookSubscription],
        outgoing: &[Outgoing],
    ) -> AppResult<Vec<(WebhookDelivery, OutboxItem)>> {
        let now = self.now();
        let mut deliveries = Vec::new();
        for event in outgoing {
            let body = json!({
                "id": event.id,
                "type": event.kind,
                "created_at": event.at,
                "account": account,
                "data": event.data,
            })
            .to_string();
            for subscription in subscriptions {
                if !subscription.events.iter().any(|e| e == event.kind)
                    || event.at < subscription.created_at
                {
                    continue;
                }
                let delivery = WebhookDelivery {
                    id: self.ids.new_uuid(now),
                    account,
                    subscription: subscription.id,
                    event_id: event.id.clone(),
                    event_type: event.kind.to_owned(),
                    body: body.clone(),
                    status: WebhookDeliveryStatus::Pending,
                    attempts: 0,
                    last_status_code: None,
                    last_error: None,
                    created_at: now,
                    last_attempt_at: None,
                    delivered_at: None,
                };
                let item = OutboxItem {
                    id: self.ids.new_uuid(now),
                    account,
                    kind: OutboxKind::Webhook,
                    payload: serde_json::to_string(&SendDelivery {
                        delivery: delivery.id,
                    })
                    .map_err(AppError::internal)?,
                    due_at: now,
                };
                deliveries.push((delivery, item));
            }
        }
        Ok(deliveries)
    }

    /// The webhook event of a logged event, if it is one.
    async fn outgoing(
        &self,
        account: AccountId,
        stored: &StoredEvent,
    ) -> AppResult<Option<Outgoing>> {
        let DomainEvent::Conversation(event) = &stored.event else {
            return Ok(None);
        };
        let id = format!("evt_{}_{}", account, stored.sequence);
        let conversation = event.conversation;
        Ok(match &event.kind {
            ConversationEventKind::Started {
                inbox,
                channel,
                contact,
                ..
            } => Some(Outgoing {
                id,
                kind: "conversation.created",
                at: event.at,
                data: json!({"conversation": conversation, "inbox": inbox, "channel": channel, "contact": contact}),
            }),
            ConversationEventKind::Resolved { .. } => Some(Outgoing {
                id,
                kind: "conversation.resolved",
                at: event.at,
                data: json!({"conversation": conversation, "by": event.actor}),
            }),
            ConversationEventKind::InboundReceived { message, .. }
            | ConversationEventKind::ReplySent { message, .. } => {
                let Some(message) = self.store.message(account, *message).await? else {
                    return Ok(None);
                };
                // M10: private notes never leave the team.
                if message.kind == MessageKind::Note {
                    return Ok(None);
                }
                Some(Outgoing {
                    id,
                    kind: "message.created",
                    at: event.at,
                    data: json!({
                        "conversation": conversation,
                        "message": message.id,
                        "direction": message.direction,
                        "kind": message.kind,
                        "body": message.body,
                        "sender": message.sender,
                        "created_at": message.created_at,
                    }),
                })
            }
            _ => None,
        })
    }
}
