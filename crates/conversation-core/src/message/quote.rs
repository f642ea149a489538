//! M4: quote-replies. A message may quote an earlier message of the same conversation
//! ([`check_quote`]); a message that reaches the contact may not quote one the contact never
//! saw, or the channel would show a private note in the quote (M10, [`check_quote_visibility`]).
//!
//! The quoted message exists already, so it is earlier. A deleted message may be quoted; the
//! quote then shows a tombstone. These checks refuse what agents write; for an inbound message
//! whose channel names a quote that fails them, the caller drops the quote and keeps the
//! message, because nothing the contact writes is refused (C3).

use super::{Audience, Message, visible_to_contact};
use crate::error::{DomainError, DomainResult};
use crate::ids::ConversationId;

/// M4: checks that a message being written in `conversation` may quote `quoted`.
///
/// # Errors
/// `quote_outside_conversation` when `quoted` belongs to another conversation.
pub fn check_quote(conversation: ConversationId, quoted: &Message) -> DomainResult<()> {
    if quoted.conversation == conversation {
        Ok(())
    } else {
        Err(DomainError::QuoteOutsideConversation)
    }
}

/// M4, M10: checks that a message for `audience` (the quoting message's
/// [`Audience::of`] its kind and direction) may quote `quoted`: what the contact sees may quote
/// only what the contact sees; notes may quote anything.
///
/// # Errors
/// `invalid_value` (field `quote`) when a message to the contact quotes a private note or an
/// internal message.
pub fn check_quote_visibility(audience: Audience, quoted: &Message) -> DomainResult<()> {
    match audience {
        Audience::AgentsAndContact if !visible_to_contact(quoted) => {
            Err(DomainError::InvalidValue {
                field: "quote",
                reason: "a message to the contact cannot quote a private note or an internal message",
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Actor;
    use crate::ids::{AgentId, ContactId};
    use crate::message::test_support::{CONVERSATION, agent_reply, message};
    use crate::message::{Direction, MessageKind};

    #[test]
    fn m4_a_message_of_the_same_conversation_can_be_quoted() {
        let earlier = agent_reply("your order shipped");
        assert_eq!(check_quote(CONVERSATION, &earlier), Ok(()));
    }

    #[test]
    fn m4_quoting_another_conversations_message_is_refused() {
        let mut elsewhere = agent_reply("other chat");
        elsewhere.conversation = ConversationId::from_u128(999);
        assert_eq!(
            check_quote(CONVERSATION, &elsewhere),
            Err(DomainError::QuoteOutsideConversation)
        );
    }

    #[test]
    fn m4_a_deleted_message_can_be_quoted() {
        let mut earlier = agent_reply("oops");
        let _ = earlier
            .delete(
                AgentId::from_u128(7),
                crate::message::test_support::at(1),
                &crate::channel::ChannelKind::WebChat.capabilities(),
            )
            .unwrap();
        assert_eq!(check_quote(CONVERSATION, &earlier), Ok(()));
    }

    #[test]
    fn m10_a_reply_to_the_contact_cannot_quote_a_note() {
        let note = message(
            MessageKind::Note,
            Direction::Internal,
            Actor::Agent(AgentId::from_u128(7)),
        );
        let reply = Audience::of(MessageKind::Text, Direction::Outbound);
        assert_eq!(
            check_quote_visibility(reply, &note).unwrap_err().code(),
            "invalid_value"
        );
        let another_note = Audience::of(MessageKind::Note, Direction::Internal);
        assert_eq!(check_quote_visibility(another_note, &note), Ok(()));
    }

    #[test]
    fn m10_a_reply_can_quote_what_the_contact_saw() {
        let inbound = message(
            MessageKind::Text,
            Direction::Inbound,
            Actor::Contact(ContactId::from_u128(3)),
        );
        let reply = Audience::of(MessageKind::Text, Direction::Outbound);
        assert_eq!(check_quote_visibility(reply, &inbound), Ok(()));
        assert_eq!(check_quote_visibility(reply, &agent_reply("x")), Ok(()));
    }
}
