//! C10: orders (or service requests) created from a conversation: linked to it and to its
//! contact, written through the conversation's pipeline with an `OrderCreated` event in its
//! timeline (C12) and an outbox row that sends the `order.created` webhook to integrations
//! (N5), all in one transaction.

use conversation_core::entities::{NewOrder, Order, OrderOrigin};
use conversation_core::events::OrderCreated;
use conversation_core::ids::{ConversationId, OrderId};
use conversation_core::ports::{OutboxItem, OutboxKind};
use conversation_core::{DomainError, DomainEvent};
use serde::Serialize;

use crate::app::App;
use crate::auth::agent_of;
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::pipeline::Plan;

/// An order as an agent submits it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateOrder {
    /// Lines, note, currency and external reference.
    pub order: NewOrder,
    /// The total the agent expects, in minor units: refused when it is not the sum of the
    /// lines.
    pub amount_minor: Option<i64>,
}

/// The body of the `order.created` webhook.
#[derive(Serialize)]
struct OrderWebhook<'a> {
    event: &'static str,
    account: conversation_core::ids::AccountId,
    order: &'a Order,
}

impl App {
    /// C10: creates an order from a conversation the caller may see.
    ///
    /// # Errors
    /// `not_found` (S1); `missing_field`, `invalid_value` for bad lines, currency or amount.
    pub async fn create_order(
        &self,
        caller: &Caller,
        conversation: ConversationId,
        create: CreateOrder,
    ) -> AppResult<Order> {
        let (account, principal) = agent_of(caller)?;
        self.conversation(caller, conversation).await?;
        let id = OrderId::from_uuid(self.new_id());
        let mut created = None;
        self.change_conversation(account, conversation, |ctx| {
            let origin = OrderOrigin {
                id,
                account,
                conversation,
                contact: ctx.conversation.contact,
            };
            let order = Order::create(origin, create.order.clone(), principal.actor(), ctx.now)?;
            if create
                .amount_minor
                .is_some_and(|amount| amount != order.amount_minor)
            {
                return Err(DomainError::InvalidValue {
                    field: "amount_minor",
                    reason: "is not the sum of quantity times unit price of the items",
                }
                .into());
            }
            let payload = serde_json::to_string(&OrderWebhook {
                event: "order.created",
                account,
                order: &order,
            })
            .map_err(AppError::internal)?;
            let plan = Plan {
                extra_events: vec![DomainEvent::OrderCreated(OrderCreated::of(&order))],
                outbox: vec![OutboxItem {
                    id: self.ids.new_uuid(ctx.now),
                    account,
                    kind: OutboxKind::Webhook,
                    payload,
                    due_at: ctx.now,
                }],
                orders: vec![order.clone()],
                ..Plan::default()
            };
            created = Some(order);
            Ok(plan)
        })
        .await?;
        created.ok_or_else(|| AppError::Internal("the order was not planned".into()))
    }

    /// C10: the orders of a conversation the caller may see, oldest first.
    ///
    /// # Errors
    /// `not_found` (S1).
    pub async fn orders(
        &self,
        caller: &Caller,
        conversation: ConversationId,
    ) -> AppResult<Vec<Order>> {
        let (account, _) = agent_of(caller)?;
        self.conversation(caller, conversation).await?;
        Ok(self.store.orders(account, conversation).await?)
    }
}
