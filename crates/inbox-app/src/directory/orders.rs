//! C10: orders (or service requests) created from a conversation: linked to it and to its
//! contact, written with an outbox row that sends the `order.created` webhook to integrations
//! (N5) in the same transaction.
//!
//! The conversation's timeline (C12) does not show the order yet: `conversation-core` has no
//! conversation event for it, and events are the core's to define.

use conversation_core::DomainError;
use conversation_core::entities::{NewOrder, Order, OrderOrigin};
use conversation_core::ids::{ConversationId, OrderId};
use conversation_core::ports::{Commit, OutboxItem, OutboxKind};
use serde::Serialize;

use crate::app::App;
use crate::auth::agent_of;
use crate::caller::Caller;
use crate::error::{AppError, AppResult};

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
struct OrderCreated<'a> {
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
        let seen = self.conversation(caller, conversation).await?;
        let now = self.now();
        let origin = OrderOrigin {
            id: OrderId::from_uuid(self.new_id()),
            account,
            conversation,
            contact: seen.value.contact,
        };
        let order = Order::create(origin, create.order, principal.actor(), now)?;
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
        let payload = serde_json::to_string(&OrderCreated {
            event: "order.created",
            account,
            order: &order,
        })
        .map_err(AppError::internal)?;
        let mut commit = Commit::new(account);
        commit.orders.push(order.clone());
        commit.outbox.push(OutboxItem {
            id: self.new_id(),
            account,
            kind: OutboxKind::Webhook,
            payload,
            due_at: now,
        });
        self.store.commit(commit).await?;
        Ok(order)
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
