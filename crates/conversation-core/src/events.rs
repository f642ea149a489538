//! `DomainEvent`: the one type the event log stores. Every machine's events are wrapped here so
//! the log, the realtime streams (N1), webhooks and reports read a single sequence. A stream for
//! the contact (widget, webhooks meant for the contact) carries only what
//! [`DomainEvent::visible_to_contact`] allows (M10).

use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::actor::Actor;
use crate::conversation::{ConversationEvent, ConversationEventKind, ReplyKind};
use crate::dialog::{AutomatedSource, DialogEvent};
use crate::entities::Order;
use crate::ids::{ContactId, ConversationId, DialogId, MessageId, OrderId};
use crate::message::{DeliveryStatus, MessageDeleted};
use crate::presence::PresenceEvent;

/// M6: an outbound message's delivery status moved forward.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDeliveryUpdated {
    /// The conversation.
    pub conversation: ConversationId,
    /// The message.
    pub message: MessageId,
    /// Its new status.
    pub status: DeliveryStatus,
    /// The provider's reason, for `failed`.
    pub reason: Option<String>,
    /// When the channel reported it.
    pub at: Timestamp,
}

/// C10: an order was created from a conversation; it shows in the conversation's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCreated {
    /// The conversation it was created from.
    pub conversation: ConversationId,
    /// The order.
    pub order: OrderId,
    /// The contact it is for.
    pub contact: ContactId,
    /// Its total, in minor units.
    pub amount_minor: i64,
    /// Its currency.
    pub currency: String,
    /// Its reference in an external system, if any.
    pub external_reference: Option<String>,
    /// Who created it (C12).
    pub actor: Actor,
    /// When.
    pub at: Timestamp,
}

impl OrderCreated {
    /// The event of a new order.
    #[must_use]
    pub fn of(order: &Order) -> Self {
        Self {
            conversation: order.conversation,
            order: order.id,
            contact: order.contact,
            amount_minor: order.amount_minor,
            currency: order.currency.clone(),
            external_reference: order.external_reference.clone(),
            actor: order.created_by,
            at: order.created_at,
        }
    }
}

/// D8: what happened to an automated message (a flow's, a broadcast's or the AI assistant's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AutomatedOutcome {
    /// Delivered at once: the contact had no active dialog.
    #[serde(rename = "automated_message_sent")]
    Sent,
    /// Held while the contact's dialog is active.
    #[serde(rename = "automated_message_held")]
    Held,
    /// A held message delivered once no dialog of the contact was active.
    #[serde(rename = "automated_message_released")]
    Released,
    /// An AI message dropped because a dialog was active; it is never delivered.
    #[serde(rename = "automated_message_discarded")]
    Discarded,
}

/// D8: an automated message was sent, held, released or discarded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomatedMessageEvent {
    /// What happened.
    #[serde(rename = "type")]
    pub outcome: AutomatedOutcome,
    /// The conversation.
    pub conversation: ConversationId,
    /// The message's id: the stored message once sent or released; for a held message the id
    /// it gets when released; for a discarded one an id nothing else carries.
    pub message: MessageId,
    /// Where it came from.
    pub source: AutomatedSource,
    /// The active dialog it was held or discarded for.
    pub dialog: Option<DialogId>,
    /// When.
    pub at: Timestamp,
}

/// Anything that happened in an account, as the event log stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stream", rename_all = "snake_case")]
pub enum DomainEvent {
    /// A conversation changed (C12).
    Conversation(ConversationEvent),
    /// A dialog changed (D9).
    Dialog {
        /// The dialog.
        dialog: DialogId,
        /// The conversation it belongs to.
        conversation: ConversationId,
        /// What changed.
        event: DialogEvent,
    },
    /// An agent's presence changed (R1).
    Presence(PresenceEvent),
    /// A message was deleted (M5).
    MessageDeleted(MessageDeleted),
    /// A message's delivery status moved (M6).
    MessageDelivery(MessageDeliveryUpdated),
    /// An order was created from a conversation (C10).
    OrderCreated(OrderCreated),
    /// D8: an automated message was sent, held, released or discarded.
    AutomatedMessage(AutomatedMessageEvent),
}

impl DomainEvent {
    /// When it happened.
    #[must_use]
    pub const fn at(&self) -> Timestamp {
        match self {
            Self::Conversation(event) => event.at,
            Self::Dialog { event, .. } => event.at(),
            Self::Presence(event) => event.at(),
            Self::MessageDeleted(event) => event.deleted_at,
            Self::MessageDelivery(event) => event.at,
            Self::OrderCreated(event) => event.at,
            Self::AutomatedMessage(event) => event.at,
        }
    }

    /// The conversation it concerns, if any.
    #[must_use]
    pub const fn conversation(&self) -> Option<ConversationId> {
        match self {
            Self::Conversation(event) => Some(event.conversation),
            Self::Dialog { conversation, .. } => Some(*conversation),
            Self::Presence(_) => None,
            Self::MessageDeleted(event) => Some(event.conversation),
            Self::MessageDelivery(event) => Some(event.conversation),
            Self::OrderCreated(event) => Some(event.conversation),
            Self::AutomatedMessage(event) => Some(event.conversation),
        }
    }

    /// M10: whether the contact's own stream may carry it. Private notes, assignment, routing,
    /// presence and internal dialog work never reach the contact.
    #[must_use]
    pub const fn visible_to_contact(&self) -> bool {
        match self {
            Self::Conversation(event) => match &event.kind {
                ConversationEventKind::ReplySent { kind, .. } => !matches!(kind, ReplyKind::Note),
                ConversationEventKind::Started { .. }
                | ConversationEventKind::InboundReceived { .. }
                | ConversationEventKind::Reopened { .. }
                | ConversationEventKind::Resolved { .. } => true,
                _ => false,
            },
            Self::Dialog { event, .. } => matches!(
                event,
                DialogEvent::SatisfactionFormSent { .. }
                    | DialogEvent::SatisfactionRecorded { .. }
                    | DialogEvent::SatisfactionClickIgnored { .. }
            ),
            // Orders are the business's record; the contact hears of them through the channel.
            Self::Presence(_) | Self::OrderCreated(_) => false,
            Self::MessageDeleted(_) | Self::MessageDelivery(_) => true,
            // D8: the contact sees the messages they get, never what was held or discarded.
            Self::AutomatedMessage(event) => matches!(
                event.outcome,
                AutomatedOutcome::Sent | AutomatedOutcome::Released
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::actor::Actor;
    use crate::ids::{AgentId, ContactId};

    fn at() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap()
    }

    fn reply(kind: ReplyKind) -> DomainEvent {
        DomainEvent::Conversation(ConversationEvent {
            conversation: ConversationId::from_u128(1),
            at: at(),
            actor: Actor::Agent(AgentId::from_u128(2)),
            kind: ConversationEventKind::ReplySent {
                message: MessageId::from_u128(3),
                kind,
                dialog: None,
            },
        })
    }

    #[test]
    fn d8_only_sent_and_released_automated_messages_reach_the_contacts_stream() {
        let automated = |outcome| {
            DomainEvent::AutomatedMessage(AutomatedMessageEvent {
                outcome,
                conversation: ConversationId::from_u128(1),
                message: MessageId::from_u128(2),
                source: AutomatedSource::Flow,
                dialog: None,
                at: at(),
            })
        };
        assert!(automated(AutomatedOutcome::Sent).visible_to_contact());
        assert!(automated(AutomatedOutcome::Released).visible_to_contact());
        assert!(!automated(AutomatedOutcome::Held).visible_to_contact());
        assert!(!automated(AutomatedOutcome::Discarded).visible_to_contact());
        let json = serde_json::to_value(automated(AutomatedOutcome::Held)).unwrap();
        assert_eq!(json["type"], "automated_message_held");
        assert_eq!(json["stream"], "automated_message");
    }

    #[test]
    fn m10_private_notes_never_reach_the_contacts_stream() {
        assert!(!reply(ReplyKind::Note).visible_to_contact());
        assert!(reply(ReplyKind::FreeForm).visible_to_contact());
        assert!(reply(ReplyKind::Template).visible_to_contact());
        let assigned = DomainEvent::Conversation(ConversationEvent {
            conversation: ConversationId::from_u128(1),
            at: at(),
            actor: Actor::System,
            kind: ConversationEventKind::Assigned {
                agent: AgentId::from_u128(2),
                released: None,
            },
        });
        assert!(!assigned.visible_to_contact());
        let inbound = DomainEvent::Conversation(ConversationEvent {
            conversation: ConversationId::from_u128(1),
            at: at(),
            actor: Actor::Contact(ContactId::from_u128(9)),
            kind: ConversationEventKind::InboundReceived {
                message: MessageId::from_u128(4),
                dialog: None,
            },
        });
        assert!(inbound.visible_to_contact());
    }

    #[test]
    fn m6_delivery_updates_round_trip_and_name_their_conversation() {
        let event = DomainEvent::MessageDelivery(MessageDeliveryUpdated {
            conversation: ConversationId::from_u128(1),
            message: MessageId::from_u128(2),
            status: DeliveryStatus::Read,
            reason: None,
            at: at(),
        });
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.contains("\"stream\":\"message_delivery\""));
        assert_eq!(serde_json::from_str::<DomainEvent>(&json).unwrap(), event);
        assert_eq!(event.conversation(), Some(ConversationId::from_u128(1)));
        assert_eq!(event.at(), at());
    }

    #[test]
    fn c10_an_order_is_a_timeline_event_of_its_conversation_kept_from_the_contact() {
        use crate::entities::{NewOrder, Order, OrderLine, OrderOrigin};
        use crate::ids::{AccountId, OrderId};
        let order = Order::create(
            OrderOrigin {
                id: OrderId::from_u128(9),
                account: AccountId::from_u128(1),
                conversation: ConversationId::from_u128(1),
                contact: ContactId::from_u128(4),
            },
            NewOrder {
                items: vec![OrderLine {
                    name: "Router".into(),
                    quantity: 2,
                    unit_price_minor: 4999,
                }],
                currency: "eur".into(),
                note: String::new(),
                external_reference: Some("ERP-7".into()),
            },
            Actor::Agent(AgentId::from_u128(2)),
            at(),
        )
        .unwrap();
        let event = DomainEvent::OrderCreated(OrderCreated::of(&order));
        assert_eq!(event.conversation(), Some(ConversationId::from_u128(1)));
        assert_eq!(event.at(), at());
        assert!(!event.visible_to_contact());
        let DomainEvent::OrderCreated(created) = &event else {
            unreachable!()
        };
        assert_eq!(
            (created.amount_minor, created.currency.as_str()),
            (9998, "EUR")
        );
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["stream"], "order_created");
        assert_eq!(serde_json::from_value::<DomainEvent>(json).unwrap(), event);
    }

    #[test]
    fn conversation_events_round_trip_inside_the_envelope() {
        let event = reply(ReplyKind::Note);
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<DomainEvent>(&json).unwrap(), event);
    }
}
