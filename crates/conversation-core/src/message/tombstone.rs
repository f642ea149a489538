//! M5: deleting an agent's reply sent by mistake, even one the contact has seen. The message
//! stays in the conversation as a tombstone (its sequence number, M9, keeps no gap): the body
//! and the attachment are removed, and the [`Tombstone`] records who deleted it and when.
//!
//! Deletion follows the crate's decide/apply shape: [`Message::decide_delete`] checks the rule
//! and returns the [`MessageDeleted`] event without changing anything;
//! [`Message::apply_deleted`] folds the event in and never fails; [`Message::delete`] does both.
//! Whether an agent may delete a colleague's reply is a permission question, answered by the
//! caller before it asks this module; here any agent may delete any agent's outbound reply.

use serde::{Deserialize, Serialize};

use super::{DeliveryStatus, Direction, Message, MessageKind};
use crate::actor::Actor;
use crate::channel::Capabilities;
use crate::entities::Timestamp;
use crate::error::{DomainError, DomainResult};
use crate::ids::{AccountId, AgentId, ConversationId, MessageId};

/// What is left of a deleted message's content: who deleted it and when (M5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    /// The agent who deleted it.
    pub deleted_by: AgentId,
    /// When.
    pub deleted_at: Timestamp,
}

/// M5: an agent deleted an outbound message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDeleted {
    /// The account.
    pub account: AccountId,
    /// The conversation of the message.
    pub conversation: ConversationId,
    /// The deleted message.
    pub message: MessageId,
    /// The agent who deleted it.
    pub deleted_by: AgentId,
    /// When.
    pub deleted_at: Timestamp,
    /// Whether the channel adapter should also delete the message on the contact's side: the
    /// channel supports unsend (`Capabilities::unsend`; the web widget does) and the message
    /// has not failed. A message still `pending` may be in flight, so it is unsent too; the
    /// outbound queue must also skip a deleted message it has not sent yet (H3).
    pub unsend: bool,
}

impl Message {
    /// M5: whether this message is of the sort that can be deleted: an outbound text, media or
    /// template message written by an agent (deleted or not).
    #[must_use]
    pub const fn is_deletable(&self) -> bool {
        matches!(self.direction, Direction::Outbound)
            && matches!(self.sender, Actor::Agent(_))
            && matches!(
                self.kind,
                MessageKind::Text | MessageKind::Media | MessageKind::Template
            )
    }

    /// M5: decides the deletion of this message by agent `by` at `at`, on a channel with
    /// `capabilities`. Changes nothing.
    ///
    /// # Errors
    /// `message_not_deletable` unless it is an agent's outbound text, media or template message
    /// (notes, system, bot, satisfaction and inbound messages are never deleted);
    /// `message_already_deleted` the second time.
    pub fn decide_delete(
        &self,
        by: AgentId,
        at: Timestamp,
        capabilities: &Capabilities,
    ) -> DomainResult<MessageDeleted> {
        if !self.is_deletable() {
            return Err(DomainError::MessageNotDeletable);
        }
        if self.deleted.is_some() {
            return Err(DomainError::MessageAlreadyDeleted);
        }
        let failed = self
            .delivery
            .as_ref()
            .is_some_and(|delivery| delivery.status() == DeliveryStatus::Failed);
        Ok(MessageDeleted {
            account: self.account,
            conversation: self.conversation,
            message: self.id,
            deleted_by: by,
            deleted_at: at,
            unsend: capabilities.unsend && !failed,
        })
    }

    /// M5: folds a [`MessageDeleted`] event into the message: the body and the attachment are
    /// removed and the tombstone set. Applying it again keeps the first tombstone.
    pub fn apply_deleted(&mut self, event: &MessageDeleted) {
        debug_assert_eq!(event.message, self.id, "event of another message");
        self.body.clear();
        self.attachment = None;
        if self.deleted.is_none() {
            self.deleted = Some(Tombstone {
                deleted_by: event.deleted_by,
                deleted_at: event.deleted_at,
            });
        }
    }

    /// M5: decides and applies the deletion; returns the event to record and publish (its
    /// `unsend` says whether the channel should delete the message on the contact's side).
    ///
    /// # Errors
    /// As [`Message::decide_delete`]; on error the message is unchanged.
    pub fn delete(
        &mut self,
        by: AgentId,
        at: Timestamp,
        capabilities: &Capabilities,
    ) -> DomainResult<MessageDeleted> {
        let event = self.decide_delete(by, at, capabilities)?;
        self.apply_deleted(&event);
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::ChannelKind;
    use crate::ids::ContactId;
    use crate::message::test_support::{agent_reply, at, message};
    use crate::message::{Attachment, DeliveryReport};

    const AGENT: AgentId = AgentId::from_u128(7);
    const OTHER_AGENT: AgentId = AgentId::from_u128(8);

    #[test]
    fn m5_deleting_a_reply_removes_the_body_and_keeps_a_tombstone() {
        let mut reply = agent_reply("sorry, wrong customer");
        reply.attachment = Some(Attachment {
            storage_key: "k".into(),
            file_name: "invoice.pdf".into(),
            content_type: "application/pdf".into(),
            size_bytes: 10,
        });
        let event = reply
            .delete(OTHER_AGENT, at(60), &ChannelKind::WebChat.capabilities())
            .expect("deletable");
        assert_eq!(event.message, reply.id);
        assert_eq!(event.deleted_by, OTHER_AGENT);
        assert!(reply.body.is_empty());
        assert_eq!(reply.attachment, None);
        assert_eq!(
            reply.deleted,
            Some(Tombstone {
                deleted_by: OTHER_AGENT,
                deleted_at: at(60)
            })
        );
        assert!(reply.is_deleted());
    }

    #[test]
    fn m5_a_reply_the_contact_has_read_can_be_deleted() {
        let mut reply = agent_reply("oops");
        let _ = reply.record_delivery(DeliveryReport::Read, at(5));
        assert!(
            reply
                .delete(AGENT, at(6), &ChannelKind::Whatsapp.capabilities())
                .is_ok()
        );
        // The delivery history stays.
        assert_eq!(reply.delivery_status(), Some(DeliveryStatus::Read));
    }

    #[test]
    fn m5_a_message_is_deleted_once() {
        let mut reply = agent_reply("oops");
        let caps = ChannelKind::Telegram.capabilities();
        let _ = reply.delete(AGENT, at(1), &caps).unwrap();
        assert_eq!(
            reply.delete(OTHER_AGENT, at(2), &caps),
            Err(DomainError::MessageAlreadyDeleted)
        );
        assert_eq!(reply.deleted.unwrap().deleted_by, AGENT);
    }

    #[test]
    fn m5_only_an_agents_outbound_reply_is_deletable() {
        let caps = ChannelKind::WebChat.capabilities();
        let agent = Actor::Agent(AGENT);
        let contact = Actor::Contact(ContactId::from_u128(3));
        let refused = [
            message(MessageKind::Text, Direction::Inbound, contact),
            message(MessageKind::Note, Direction::Internal, agent),
            message(MessageKind::System, Direction::Outbound, Actor::System),
            message(MessageKind::Bot, Direction::Outbound, Actor::Integration),
            message(MessageKind::Text, Direction::Outbound, Actor::Integration),
            message(MessageKind::CsatRequest, Direction::Outbound, agent),
        ];
        for mut m in refused {
            let before = m.clone();
            assert_eq!(
                m.delete(AGENT, at(1), &caps),
                Err(DomainError::MessageNotDeletable),
                "{:?}",
                m.kind
            );
            assert_eq!(m, before);
        }
        for kind in [MessageKind::Text, MessageKind::Media, MessageKind::Template] {
            assert!(message(kind, Direction::Outbound, agent).is_deletable());
        }
    }

    #[test]
    fn m5_unsend_follows_the_channel_capability() {
        for kind in ChannelKind::ALL {
            let event = agent_reply("x")
                .decide_delete(AGENT, at(1), &kind.capabilities())
                .unwrap();
            assert_eq!(event.unsend, kind.capabilities().unsend, "{kind:?}");
        }
        assert!(ChannelKind::WebChat.capabilities().unsend);
    }

    #[test]
    fn m5_a_failed_message_is_not_unsent() {
        let mut reply = agent_reply("x");
        let _ = reply.record_delivery(
            DeliveryReport::Failed {
                reason: "blocked".into(),
            },
            at(1),
        );
        let event = reply
            .decide_delete(AGENT, at(2), &ChannelKind::Telegram.capabilities())
            .unwrap();
        assert!(!event.unsend);
    }

    #[test]
    fn m5_decide_changes_nothing_and_apply_rebuilds_the_state() {
        let reply = agent_reply("x");
        let caps = ChannelKind::Api.capabilities();
        let event = reply.decide_delete(AGENT, at(1), &caps).unwrap();
        assert_eq!(reply.body, "x");
        let mut replayed = reply.clone();
        replayed.apply_deleted(&event);
        let mut deleted = reply;
        let _ = deleted.delete(AGENT, at(1), &caps).unwrap();
        assert_eq!(replayed, deleted);
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            serde_json::from_str::<MessageDeleted>(&json).unwrap(),
            event
        );
    }
}
