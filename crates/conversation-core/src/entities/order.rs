use serde::{Deserialize, Serialize};

use super::Timestamp;
use crate::actor::Actor;
use crate::error::{DomainError, DomainResult};
use crate::ids::{AccountId, ContactId, ConversationId, OrderId};

/// One line of an order as the agent enters it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// What is ordered.
    pub name: String,
    /// How many.
    pub quantity: u32,
    /// Price of one, in minor units of the order's currency (cents).
    pub unit_price_minor: i64,
}

/// A validated order line.
pub type OrderItem = OrderLine;

/// C10: an order or service request created from a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Its id.
    pub id: OrderId,
    /// The account.
    pub account: AccountId,
    /// The conversation it was created from.
    pub conversation: ConversationId,
    /// The contact it is for.
    pub contact: ContactId,
    /// Its lines.
    pub items: Vec<OrderItem>,
    /// Total, in minor units: the sum of quantity x unit price.
    pub amount_minor: i64,
    /// ISO 4217 code, three upper-case letters.
    pub currency: String,
    /// A free note.
    pub note: String,
    /// The reference in an external system, if any.
    pub external_reference: Option<String>,
    /// Who created it.
    pub created_by: Actor,
    /// When.
    pub created_at: Timestamp,
}

/// Where a new order comes from: its id and the conversation and contact it is linked to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderOrigin {
    /// The new order's id.
    pub id: OrderId,
    /// The account.
    pub account: AccountId,
    /// The conversation it is created from.
    pub conversation: ConversationId,
    /// The conversation's contact.
    pub contact: ContactId,
}

/// What an agent submits to create an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrder {
    /// Its lines.
    pub items: Vec<OrderLine>,
    /// ISO 4217 code.
    pub currency: String,
    /// A free note.
    pub note: String,
    /// The reference in an external system, if any.
    pub external_reference: Option<String>,
}

impl Order {
    /// C10: validates the lines and computes the amount.
    ///
    /// # Errors
    /// `missing_field` without items, `invalid_value` for a blank item name, a zero quantity,
    /// a negative price, an overflowing total or a currency that is not three letters.
    pub fn create(
        origin: OrderOrigin,
        new: NewOrder,
        created_by: Actor,
        created_at: Timestamp,
    ) -> DomainResult<Self> {
        let OrderOrigin {
            id,
            account,
            conversation,
            contact,
        } = origin;
        if new.items.is_empty() {
            return Err(DomainError::MissingField { field: "items" });
        }
        let mut amount: i64 = 0;
        for item in &new.items {
            if item.name.trim().is_empty() {
                return Err(DomainError::InvalidValue {
                    field: "items.name",
                    reason: "blank",
                });
            }
            if item.quantity == 0 {
                return Err(DomainError::InvalidValue {
                    field: "items.quantity",
                    reason: "zero",
                });
            }
            if item.unit_price_minor < 0 {
                return Err(DomainError::InvalidValue {
                    field: "items.unit_price_minor",
                    reason: "negative",
                });
            }
            amount = item
                .unit_price_minor
                .checked_mul(i64::from(item.quantity))
                .and_then(|line| amount.checked_add(line))
                .ok_or(DomainError::InvalidValue {
                    field: "items",
                    reason: "total too large",
                })?;
        }
        let currency = new.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(DomainError::InvalidValue {
                field: "currency",
                reason: "must be a three-letter ISO 4217 code",
            });
        }
        Ok(Self {
            id,
            account,
            conversation,
            contact,
            items: new.items,
            amount_minor: amount,
            currency,
            note: new.note,
            external_reference: new.external_reference.filter(|r| !r.trim().is_empty()),
            created_by,
            created_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn origin() -> OrderOrigin {
        OrderOrigin {
            id: OrderId::from_u128(1),
            account: AccountId::from_u128(2),
            conversation: ConversationId::from_u128(3),
            contact: ContactId::from_u128(4),
        }
    }

    fn line(name: &str, quantity: u32, unit_price_minor: i64) -> OrderLine {
        OrderLine {
            name: name.into(),
            quantity,
            unit_price_minor,
        }
    }

    fn at() -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn c10_order_sums_its_lines_and_links_conversation_and_contact() {
        let new = NewOrder {
            items: vec![line("Router", 2, 4_999), line("Cable", 1, 500)],
            currency: "eur".into(),
            note: "deliver Monday".into(),
            external_reference: Some("ERP-7".into()),
        };
        let order = Order::create(origin(), new, Actor::Integration, at()).unwrap();
        assert_eq!(order.amount_minor, 10_498);
        assert_eq!(order.currency, "EUR");
        assert_eq!(order.conversation, ConversationId::from_u128(3));
        assert_eq!(order.contact, ContactId::from_u128(4));
    }

    #[test]
    fn c10_order_refuses_bad_lines_and_currency() {
        let base = NewOrder {
            items: vec![line("Router", 1, 100)],
            currency: "EUR".into(),
            note: String::new(),
            external_reference: None,
        };
        let refuse = |new: NewOrder| Order::create(origin(), new, Actor::System, at()).unwrap_err();
        assert_eq!(
            refuse(NewOrder {
                items: vec![],
                ..base.clone()
            })
            .code(),
            "missing_field"
        );
        assert_eq!(
            refuse(NewOrder {
                items: vec![line("x", 0, 1)],
                ..base.clone()
            })
            .code(),
            "invalid_value"
        );
        assert_eq!(
            refuse(NewOrder {
                items: vec![line("x", 1, -1)],
                ..base.clone()
            })
            .code(),
            "invalid_value"
        );
        assert_eq!(
            refuse(NewOrder {
                items: vec![line(" ", 1, 1)],
                ..base.clone()
            })
            .code(),
            "invalid_value"
        );
        assert_eq!(
            refuse(NewOrder {
                currency: "EURO".into(),
                ..base.clone()
            })
            .code(),
            "invalid_value"
        );
        assert_eq!(
            refuse(NewOrder {
                items: vec![line("x", u32::MAX, i64::MAX)],
                ..base
            })
            .code(),
            "invalid_value"
        );
    }
}
