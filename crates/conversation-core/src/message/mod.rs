//! Messages of a conversation (M1 to M6, M10): the [`Message`] entity with its
//! [`MessageKind`] and [`Direction`], and the rules about one message, one file each:
//! `text` (M2, what agents may write), `masking` (M3, card numbers), `template` (M1 and the
//! template part of C4), `delivery` (M6, outbound status), `tombstone` (M5, deletion), `quote`
//! (M4), `visibility` (M10, what reaches the contact) and `attachment` (M7, S4: the files a
//! message may carry).
//!
//! What does not belong here: the sequence number (M9) and deduplication by external or client
//! id (M8) are the store's, so they are plain fields; whether a free-form reply is inside the
//! reply window (C4) and in which dialog an agent may write (D5, D6) are the conversation's and
//! the dialog's rules. [`Message::create`] is the way to make a message: it checks kind,
//! direction and sender against each other (M1), masks card numbers in the body (M3) and starts
//! outbound messages `pending` (M6). To add a rule about one message: a small file here opening
//! with a `//!` paragraph, its re-export below, and tests named after the rule id.

mod attachment;
mod delivery;
mod masking;
mod quote;
mod template;
mod text;
mod tombstone;
mod visibility;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

pub use attachment::{
    ALLOWED_CONTENT_TYPES, ATTACHMENT_MAX_BYTES_CEILING, FALLBACK_FILE_NAME, FILE_NAME_MAX_CHARS,
    Upload, accept_attachment, allowed_content_type, check_content, check_size,
    content_type_essence, effective_max_bytes, sanitize_file_name,
};
pub use delivery::{Delivery, DeliveryChange, DeliveryReport, DeliveryStatus};
pub use masking::{CARD_DIGITS_MAX, CARD_DIGITS_MIN, MASK, luhn_valid, mask_card_numbers};
pub use quote::{check_quote, check_quote_visibility};
pub use template::{Template, check_template_allowed};
pub use text::{AgentText, validate_agent_text};
pub use tombstone::{MessageDeleted, Tombstone};
pub use visibility::{Audience, for_contact, visible_to_contact};

use crate::actor::Actor;
use crate::entities::Timestamp;
use crate::error::{DomainError, DomainResult};
use crate::ids::{AccountId, ConversationId, DialogId, MessageId};

/// M1: what a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Plain text.
    Text,
    /// An image or a file (see [`Attachment`]), with an optional caption as its body.
    Media,
    /// A [`Template`] rendered with its parameters; outside the reply window the only thing an
    /// agent may send, where the channel supports templates (C4).
    Template,
    /// A private note between agents; never reaches the contact (M10).
    Note,
    /// A timeline event written by the server ("X joined", R9).
    System,
    /// The satisfaction form sent to the contact (D13).
    CsatRequest,
    /// The contact's answer to the satisfaction form (D13).
    CsatResponse,
    /// A message of a bot flow or of the AI assistant (C11, D8).
    Bot,
}

impl MessageKind {
    /// Every kind, in a stable order.
    pub const ALL: [Self; 8] = [
        Self::Text,
        Self::Media,
        Self::Template,
        Self::Note,
        Self::System,
        Self::CsatRequest,
        Self::CsatResponse,
        Self::Bot,
    ];

    /// M1: whether a message of this kind may travel in `direction`. Text and media go both
    /// ways; templates, satisfaction forms and bot messages go out; satisfaction answers come
    /// in; notes stay internal; system messages are internal or, when the contact is meant to
    /// see them, outbound.
    #[must_use]
    pub const fn allows(self, direction: Direction) -> bool {
        match self {
            Self::Text | Self::Media => {
                matches!(direction, Direction::Inbound | Direction::Outbound)
            }
            Self::Template | Self::CsatRequest | Self::Bot => {
                matches!(direction, Direction::Outbound)
            }
            Self::CsatResponse => matches!(direction, Direction::Inbound),
            Self::Note => matches!(direction, Direction::Internal),
            Self::System => matches!(direction, Direction::Internal | Direction::Outbound),
        }
    }
}

/// M1: which way a message travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the contact.
    Inbound,
    /// To the contact.
    Outbound,
    /// Among agents and the server; never sent to the contact (M10).
    Internal,
}

impl Direction {
    /// Every direction, in a stable order.
    pub const ALL: [Self; 3] = [Self::Inbound, Self::Outbound, Self::Internal];
}

/// The metadata of a message's file (M7 keeps the limits; the file lives in storage).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The generated key the file is stored under; never derived from the file's name.
    pub storage_key: String,
    /// The name the file was uploaded with, for display and download only.
    pub file_name: String,
    /// Its media type, as checked against the inbox's allow-list.
    pub content_type: String,
    /// Its size in bytes.
    pub size_bytes: u64,
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Its id.
    pub id: MessageId,
    /// The account.
    pub account: AccountId,
    /// The conversation.
    pub conversation: ConversationId,
    /// The dialog it was written in, if any (D5, D7).
    pub dialog: Option<DialogId>,
    /// Its place in the conversation: gap-free and increasing, assigned by the store (M9).
    pub sequence: u64,
    /// What it is (M1).
    pub kind: MessageKind,
    /// Which way it travels (M1).
    pub direction: Direction,
    /// Who wrote it.
    pub sender: Actor,
    /// Its text, card numbers masked (M3); empty once deleted (M5).
    pub body: String,
    /// The earlier message of the same conversation it quotes (M4).
    pub quote: Option<MessageId>,
    /// Its file, if any; removed once deleted (M5).
    pub attachment: Option<Attachment>,
    /// The id the sending client gave it, to store a retry once (M8).
    pub client_id: Option<String>,
    /// The channel's id of it, to store a webhook retry once (M8) and to unsend it (M5).
    pub external_id: Option<String>,
    /// When it was written (M6).
    pub created_at: Timestamp,
    /// For outbound messages, the delivery status with its times (M6); `None` otherwise.
    pub delivery: Option<Delivery>,
    /// Set once an agent deleted it (M5).
    pub deleted: Option<Tombstone>,
    /// The subject of the email it came in (email threading, W7); `None` for other channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// Where a new message goes and what names it: ids and place, given by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageOrigin {
    /// The new message's id.
    pub id: MessageId,
    /// The account.
    pub account: AccountId,
    /// The conversation.
    pub conversation: ConversationId,
    /// The dialog it is written in, if any.
    pub dialog: Option<DialogId>,
    /// Its sequence number, as the store assigns it (M9).
    pub sequence: u64,
}

/// The content of a new message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMessage {
    /// What it is.
    pub kind: MessageKind,
    /// Which way it travels.
    pub direction: Direction,
    /// Who writes it.
    pub sender: Actor,
    /// Its text: an [`AgentText`], a rendered [`Template`], or what the channel delivered.
    pub body: String,
    /// The message it quotes, already checked with [`check_quote`].
    pub quote: Option<MessageId>,
    /// Its file, if any.
    pub attachment: Option<Attachment>,
    /// The sending client's id for it, if any.
    pub client_id: Option<String>,
    /// The channel's id for it, if any.
    pub external_id: Option<String>,
}

fn non_blank(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

impl Message {
    /// Makes a message: M1 checks, the body masked (M3), outbound messages `pending` (M6),
    /// blank client and external ids dropped. The body is not otherwise checked: agent text is
    /// checked with [`validate_agent_text`] first, and what the contact writes is never refused.
    ///
    /// # Errors
    /// `invalid_value` for a direction the kind does not allow (field `direction`) or a sender
    /// that does not match the direction (field `sender`: the contact sends inbound messages
    /// and nothing else); `missing_field` (field `attachment`) for media without a file.
    pub fn create(
        origin: MessageOrigin,
        new: NewMessage,
        created_at: Timestamp,
    ) -> DomainResult<Self> {
        if !new.kind.allows(new.direction) {
            return Err(DomainError::InvalidValue {
                field: "direction",
                reason: "this message kind cannot travel in this direction",
            });
        }
        let from_contact = matches!(new.sender, Actor::Contact(_));
        if from_contact != matches!(new.direction, Direction::Inbound) {
            return Err(DomainError::InvalidValue {
                field: "sender",
                reason: "the contact sends inbound messages, and only the contact does",
            });
        }
        if new.kind == MessageKind::Media && new.attachment.is_none() {
            return Err(DomainError::MissingField {
                field: "attachment",
            });
        }
        let body = match mask_card_numbers(&new.body) {
            Cow::Owned(masked) => masked,
            Cow::Borrowed(_) => new.body,
        };
        let delivery =
            (new.direction == Direction::Outbound).then(|| Delivery::pending(created_at));
        Ok(Self {
            id: origin.id,
            account: origin.account,
            conversation: origin.conversation,
            dialog: origin.dialog,
            sequence: origin.sequence,
            kind: new.kind,
            direction: new.direction,
            sender: new.sender,
            body,
            quote: new.quote,
            attachment: new.attachment,
            client_id: non_blank(new.client_id),
            external_id: non_blank(new.external_id),
            created_at,
            delivery,
            deleted: None,
            subject: None,
        })
    }

    /// M5: whether an agent deleted it.
    #[must_use]
    pub const fn is_deleted(&self) -> bool {
        self.deleted.is_some()
    }

    /// M6: the delivery status of an outbound message; `None` for the others.
    #[must_use]
    pub fn delivery_status(&self) -> Option<DeliveryStatus> {
        self.delivery.as_ref().map(Delivery::status)
    }

    /// M6: records a delivery report; see [`Delivery::record`]. A message with no delivery
    /// (inbound or internal) ignores it.
    pub fn record_delivery(&mut self, report: DeliveryReport, at: Timestamp) -> DeliveryChange {
        match &mut self.delivery {
            Some(delivery) => delivery.record(report, at),
            None => DeliveryChange::Unchanged,
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Fixtures and proptest strategies shared by the tests of this module.

    use chrono::DateTime;
    use proptest::prelude::*;

    use super::*;
    use crate::ids::{AgentId, ContactId};

    /// The conversation of every fixture.
    pub(crate) const CONVERSATION: ConversationId = ConversationId::from_u128(2);

    /// A fixed point in time, `seconds` after 2026-01-01T00:00:00Z.
    pub(crate) fn at(seconds: i64) -> Timestamp {
        DateTime::from_timestamp(1_767_225_600 + seconds, 0).expect("in range")
    }

    /// Any time between 1970 and 2100, with nanoseconds.
    pub(crate) fn timestamp() -> impl Strategy<Value = Timestamp> {
        (0_i64..4_102_444_800, 0_u32..1_000_000_000)
            .prop_map(|(secs, nanos)| DateTime::from_timestamp(secs, nanos).expect("in range"))
    }

    pub(crate) fn origin() -> MessageOrigin {
        MessageOrigin {
            id: MessageId::from_u128(10),
            account: AccountId::from_u128(1),
            conversation: CONVERSATION,
            dialog: None,
            sequence: 1,
        }
    }

    /// A message of any kind, direction and sender, built without checks.
    pub(crate) fn message(kind: MessageKind, direction: Direction, sender: Actor) -> Message {
        let origin = origin();
        Message {
            id: origin.id,
            account: origin.account,
            conversation: origin.conversation,
            dialog: None,
            sequence: origin.sequence,
            kind,
            direction,
            sender,
            body: "body".into(),
            quote: None,
            attachment: None,
            client_id: None,
            external_id: None,
            created_at: at(0),
            delivery: (direction == Direction::Outbound).then(|| Delivery::pending(at(0))),
            deleted: None,
            subject: None,
        }
    }

    /// An agent's outbound text reply.
    pub(crate) fn agent_reply(body: &str) -> Message {
        Message {
            body: body.into(),
            ..message(
                MessageKind::Text,
                Direction::Outbound,
                Actor::Agent(AgentId::from_u128(7)),
            )
        }
    }

    pub(crate) fn actor() -> impl Strategy<Value = Actor> {
        prop_oneof![
            Just(Actor::System),
            Just(Actor::Integration),
            any::<u128>().prop_map(|n| Actor::Contact(ContactId::from_u128(n))),
            any::<u128>().prop_map(|n| Actor::Agent(AgentId::from_u128(n))),
        ]
    }

    fn attachment() -> impl Strategy<Value = Attachment> {
        (
            "[a-z0-9]{1,12}",
            "\\PC{0,12}",
            "[a-z]{1,8}/[a-z]{1,8}",
            any::<u64>(),
        )
            .prop_map(
                |(storage_key, file_name, content_type, size_bytes)| Attachment {
                    storage_key,
                    file_name,
                    content_type,
                    size_bytes,
                },
            )
    }

    /// Any message, consistent or not: serde must carry whatever is stored.
    pub(crate) fn any_message() -> impl Strategy<Value = Message> {
        let ids = (
            any::<u128>(),
            any::<u128>(),
            any::<u128>(),
            proptest::option::of(any::<u128>()),
            any::<u64>(),
            proptest::option::of(any::<u128>()),
        );
        let content = (
            prop::sample::select(MessageKind::ALL.to_vec()),
            prop::sample::select(Direction::ALL.to_vec()),
            actor(),
            "\\PC{0,40}",
            proptest::option::of(attachment()),
            proptest::option::of("\\PC{0,10}"),
            proptest::option::of("\\PC{0,10}"),
        );
        let state = (
            timestamp(),
            proptest::option::of(super::delivery::strategies::delivery()),
            proptest::option::of((any::<u128>(), timestamp())),
            proptest::option::of("\\PC{0,10}"),
        );
        (ids, content, state).prop_map(
            |(
                (id, account, conversation, dialog, sequence, quote),
                (kind, direction, sender, body, attachment, client_id, external_id),
                (created_at, delivery, deleted, subject),
            )| Message {
                id: MessageId::from_u128(id),
                account: AccountId::from_u128(account),
                conversation: ConversationId::from_u128(conversation),
                dialog: dialog.map(DialogId::from_u128),
                sequence,
                kind,
                direction,
                sender,
                body,
                quote: quote.map(MessageId::from_u128),
                attachment,
                client_id,
                external_id,
                created_at,
                delivery,
                deleted: deleted.map(|(agent, deleted_at)| Tombstone {
                    deleted_by: AgentId::from_u128(agent),
                    deleted_at,
                }),
                subject,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::test_support::{any_message, at, origin};
    use super::*;
    use crate::ids::{AgentId, ContactId};

    const AGENT: Actor = Actor::Agent(AgentId::from_u128(7));
    const CONTACT: Actor = Actor::Contact(ContactId::from_u128(3));

    fn new(kind: MessageKind, direction: Direction, sender: Actor, body: &str) -> NewMessage {
        NewMessage {
            kind,
            direction,
            sender,
            body: body.into(),
            quote: None,
            attachment: None,
            client_id: None,
            external_id: None,
        }
    }

    #[test]
    fn m1_kinds_and_directions_serialize_in_snake_case() {
        let kinds: Vec<String> = MessageKind::ALL
            .iter()
            .map(|k| serde_json::to_string(k).unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "\"text\"",
                "\"media\"",
                "\"template\"",
                "\"note\"",
                "\"system\"",
                "\"csat_request\"",
                "\"csat_response\"",
                "\"bot\""
            ]
        );
        let directions: Vec<String> = Direction::ALL
            .iter()
            .map(|d| serde_json::to_string(d).unwrap())
            .collect();
        assert_eq!(directions, ["\"inbound\"", "\"outbound\"", "\"internal\""]);
    }

    #[test]
    fn m1_every_kind_and_direction_round_trips_through_serde() {
        for kind in MessageKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(serde_json::from_str::<MessageKind>(&json).unwrap(), kind);
        }
        for direction in Direction::ALL {
            let json = serde_json::to_string(&direction).unwrap();
            assert_eq!(serde_json::from_str::<Direction>(&json).unwrap(), direction);
        }
    }

    #[test]
    fn m1_direction_table_one_row_per_kind() {
        use Direction::{Inbound, Internal, Outbound};
        let table = [
            (MessageKind::Text, [true, true, false]),
            (MessageKind::Media, [true, true, false]),
            (MessageKind::Template, [false, true, false]),
            (MessageKind::Note, [false, false, true]),
            (MessageKind::System, [false, true, true]),
            (MessageKind::CsatRequest, [false, true, false]),
            (MessageKind::CsatResponse, [true, false, false]),
            (MessageKind::Bot, [false, true, false]),
        ];
        assert_eq!(table.len(), MessageKind::ALL.len());
        for (kind, row) in table {
            for (direction, allowed) in [Inbound, Outbound, Internal].into_iter().zip(row) {
                assert_eq!(kind.allows(direction), allowed, "{kind:?} {direction:?}");
            }
        }
    }

    #[test]
    fn m1_a_note_is_internal_and_written_by_an_agent() {
        let note = Message::create(
            origin(),
            new(
                MessageKind::Note,
                Direction::Internal,
                AGENT,
                "VIP customer",
            ),
            at(0),
        )
        .unwrap();
        assert_eq!(note.delivery, None);
        assert_eq!(
            Message::create(
                origin(),
                new(MessageKind::Note, Direction::Outbound, AGENT, "x"),
                at(0)
            )
            .unwrap_err(),
            DomainError::InvalidValue {
                field: "direction",
                reason: "this message kind cannot travel in this direction",
            }
        );
    }

    #[test]
    fn m1_only_the_contact_sends_inbound_messages() {
        let refused = [
            new(MessageKind::Text, Direction::Inbound, AGENT, "x"),
            new(MessageKind::Text, Direction::Outbound, CONTACT, "x"),
            new(MessageKind::Note, Direction::Internal, CONTACT, "x"),
        ];
        for message in refused {
            let error = Message::create(origin(), message, at(0)).unwrap_err();
            assert!(
                matches!(
                    error,
                    DomainError::InvalidValue {
                        field: "sender",
                        ..
                    }
                ),
                "{error:?}"
            );
        }
        assert!(
            Message::create(
                origin(),
                new(MessageKind::CsatResponse, Direction::Inbound, CONTACT, "3"),
                at(0)
            )
            .is_ok()
        );
    }

    #[test]
    fn m1_media_needs_its_file() {
        let mut media = new(MessageKind::Media, Direction::Inbound, CONTACT, "");
        assert_eq!(
            Message::create(origin(), media.clone(), at(0)),
            Err(DomainError::MissingField {
                field: "attachment"
            })
        );
        media.attachment = Some(Attachment {
            storage_key: "01J".into(),
            file_name: "photo.jpg".into(),
            content_type: "image/jpeg".into(),
            size_bytes: 1024,
        });
        assert!(Message::create(origin(), media, at(0)).is_ok());
    }

    #[test]
    fn m3_message_bodies_are_masked_when_the_message_is_made() {
        let inbound = Message::create(
            origin(),
            new(
                MessageKind::Text,
                Direction::Inbound,
                CONTACT,
                "my card is 4111 1111 1111 1111",
            ),
            at(0),
        )
        .unwrap();
        assert_eq!(inbound.body, "my card is **** **** **** 1111");
        let note = Message::create(
            origin(),
            new(
                MessageKind::Note,
                Direction::Internal,
                AGENT,
                "he gave 5500000000000004",
            ),
            at(0),
        )
        .unwrap();
        assert_eq!(note.body, "he gave ************0004");
    }

    #[test]
    fn m6_outbound_messages_start_pending_and_carry_their_time() {
        let reply = Message::create(
            origin(),
            new(MessageKind::Text, Direction::Outbound, AGENT, "hello"),
            at(30),
        )
        .unwrap();
        assert_eq!(reply.created_at, at(30));
        assert_eq!(reply.delivery_status(), Some(DeliveryStatus::Pending));
        assert_eq!(
            reply.delivery.as_ref().unwrap().at(DeliveryStatus::Pending),
            Some(at(30))
        );
        let inbound = Message::create(
            origin(),
            new(MessageKind::Text, Direction::Inbound, CONTACT, "hi"),
            at(0),
        )
        .unwrap();
        assert_eq!(inbound.delivery_status(), None);
    }

    #[test]
    fn m6_delivery_reports_on_messages_without_delivery_are_ignored() {
        let mut inbound = Message::create(
            origin(),
            new(MessageKind::Text, Direction::Inbound, CONTACT, "hi"),
            at(0),
        )
        .unwrap();
        assert_eq!(
            inbound.record_delivery(DeliveryReport::Read, at(1)),
            DeliveryChange::Unchanged
        );
        assert_eq!(inbound.delivery, None);
    }

    /// Keeps blank ids out of the store's unique keys; deduplication itself (M8) is the store's.
    #[test]
    fn blank_client_and_external_ids_are_dropped() {
        let mut message = new(MessageKind::Text, Direction::Inbound, CONTACT, "hi");
        message.client_id = Some("  ".into());
        message.external_id = Some("wamid.1".into());
        let made = Message::create(origin(), message, at(0)).unwrap();
        assert_eq!(made.client_id, None);
        assert_eq!(made.external_id.as_deref(), Some("wamid.1"));
    }

    #[test]
    fn m1_the_message_serializes_with_snake_case_fields() {
        let reply = super::test_support::agent_reply("hello");
        let json = serde_json::to_value(&reply).unwrap();
        assert_eq!(json["kind"], "text");
        assert_eq!(json["direction"], "outbound");
        assert_eq!(json["sender"]["type"], "agent");
        assert_eq!(json["delivery"]["status"], "pending");
        assert!(json["deleted"].is_null());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// spec: M1, M6
        #[test]
        fn m1_message_survives_a_serde_round_trip(message in any_message()) {
            let json = serde_json::to_string(&message).unwrap();
            prop_assert_eq!(serde_json::from_str::<Message>(&json).unwrap(), message);
        }

        /// spec: M1, M3
        #[test]
        fn m1_created_messages_are_consistent(
            kind in prop::sample::select(MessageKind::ALL.to_vec()),
            direction in prop::sample::select(Direction::ALL.to_vec()),
            sender in super::test_support::actor(),
            body in "\\PC{0,40}",
        ) {
            let made = Message::create(origin(), new(kind, direction, sender, &body), at(0));
            if let Ok(message) = made {
                prop_assert!(message.kind.allows(message.direction));
                prop_assert_eq!(
                    matches!(message.sender, Actor::Contact(_)),
                    message.direction == Direction::Inbound
                );
                prop_assert_eq!(message.delivery.is_some(), direction == Direction::Outbound);
                prop_assert_eq!(message.body, mask_card_numbers(&body).into_owned());
            }
        }
    }
}
