//! M10: private notes never reach the contact. [`Audience::of`] says who a message is for,
//! from its kind and direction; [`visible_to_contact`] answers it for one message and
//! [`for_contact`] filters what the contact's side may carry: the widget's history, the
//! contact's event stream and the webhooks meant for the contact. Channel adapters send only
//! outbound messages, and notes are never outbound (M1, see
//! [`MessageKind::allows`](super::MessageKind::allows)); the check here holds even for a
//! message whose kind and direction disagree (data read back from elsewhere), because a note is
//! private whatever its direction says.
//!
//! Agents and integration webhooks meant for agents see every message; this module filters only
//! what goes to the contact.

use std::borrow::Borrow;

use serde::{Deserialize, Serialize};

use super::{Direction, Message, MessageKind};

/// Who a message is for (M10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Agents only: private notes and internal timeline messages.
    AgentsOnly,
    /// Agents and the contact: what the contact wrote and what was sent to them.
    AgentsAndContact,
}

impl Audience {
    /// M10: the audience of a message of this kind and direction. Notes and internal messages
    /// are for agents only.
    #[must_use]
    pub const fn of(kind: MessageKind, direction: Direction) -> Self {
        if matches!(kind, MessageKind::Note) || matches!(direction, Direction::Internal) {
            Self::AgentsOnly
        } else {
            Self::AgentsAndContact
        }
    }
}

/// M10: whether the contact may see this message (deleted ones are seen as tombstones).
#[must_use]
pub const fn visible_to_contact(message: &Message) -> bool {
    matches!(
        Audience::of(message.kind, message.direction),
        Audience::AgentsAndContact
    )
}

/// M10: keeps only what the contact may see, in order. Works on owned messages and on
/// references: pass it what the contact's event stream, widget or contact-bound webhook is about
/// to carry.
pub fn for_contact<T, I>(messages: I) -> impl Iterator<Item = T>
where
    T: Borrow<Message>,
    I: IntoIterator<Item = T>,
{
    messages
        .into_iter()
        .filter(|message| visible_to_contact(message.borrow()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Actor;
    use crate::ids::{AgentId, ContactId, MessageId};
    use crate::message::test_support::{agent_reply, message};

    const AGENT: Actor = Actor::Agent(AgentId::from_u128(7));

    #[test]
    fn m10_notes_and_internal_messages_are_never_visible_to_the_contact() {
        assert!(!visible_to_contact(&message(
            MessageKind::Note,
            Direction::Internal,
            AGENT
        )));
        assert!(!visible_to_contact(&message(
            MessageKind::System,
            Direction::Internal,
            Actor::System
        )));
        // Even a note stored with the wrong direction stays private.
        let mut misfiled = message(MessageKind::Note, Direction::Internal, AGENT);
        misfiled.direction = Direction::Outbound;
        assert!(!visible_to_contact(&misfiled));
    }

    #[test]
    fn m10_the_contacts_own_messages_and_replies_are_visible() {
        let contact = Actor::Contact(ContactId::from_u128(3));
        assert!(visible_to_contact(&message(
            MessageKind::Text,
            Direction::Inbound,
            contact
        )));
        assert!(visible_to_contact(&agent_reply("hello")));
        assert!(visible_to_contact(&message(
            MessageKind::CsatRequest,
            Direction::Outbound,
            AGENT
        )));
        assert!(visible_to_contact(&message(
            MessageKind::Bot,
            Direction::Outbound,
            Actor::Integration
        )));
    }

    #[test]
    fn m10_every_kind_and_direction_has_the_expected_audience() {
        for kind in MessageKind::ALL {
            for direction in Direction::ALL {
                let private = kind == MessageKind::Note || direction == Direction::Internal;
                assert_eq!(
                    Audience::of(kind, direction) == Audience::AgentsOnly,
                    private,
                    "{kind:?} {direction:?}"
                );
            }
        }
    }

    #[test]
    fn m10_the_contacts_stream_carries_no_note() {
        let mut timeline = vec![
            agent_reply("first"),
            message(MessageKind::Note, Direction::Internal, AGENT),
            agent_reply("second"),
            message(MessageKind::System, Direction::Internal, Actor::System),
        ];
        for (n, m) in timeline.iter_mut().enumerate() {
            m.id = MessageId::from_u128(u128::try_from(n).unwrap());
        }
        let by_reference: Vec<MessageId> = for_contact(&timeline).map(|m| m.id).collect();
        assert_eq!(
            by_reference,
            [MessageId::from_u128(0), MessageId::from_u128(2)]
        );
        let owned: Vec<Message> = for_contact(timeline).collect();
        assert_eq!(owned.len(), 2);
        assert!(owned.iter().all(|m| m.kind != MessageKind::Note));
    }
}
