//! What the API returns: stable views of the core's values, documented in the OpenAPI
//! document. Nested state whose shape the core already defines (assignments, events, delivery
//! records) is passed through as the core serializes it.

use chrono::{DateTime, Utc};
use conversation_core::conversation::Conversation;
use conversation_core::message::{Attachment, Message};
use conversation_core::ports::{StoredEvent, Versioned};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

fn json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

fn name<T: Serialize>(value: &T) -> String {
    json(value).as_str().unwrap_or_default().to_owned()
}

/// A conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationView {
    /// Its id.
    pub id: Uuid,
    /// Its inbox.
    pub inbox: Uuid,
    /// Its contact.
    pub contact: Uuid,
    /// H1: the channel kind (`web_chat`, `whatsapp`, ...), for the dashboard's icon.
    pub channel: String,
    /// C1: `open`, `bot`, `resolved` or `dropped`.
    pub status: String,
    /// C7: its inbox or queue was deleted.
    pub interrupted: bool,
    /// Who handles it: `{"type": "waiting" | "offered" | "assigned" | ..., ...}`; absent unless open.
    #[schema(value_type = Option<Object>)]
    pub assignment: Option<serde_json::Value>,
    /// The agent it is assigned to.
    pub assignee: Option<Uuid>,
    /// Its queue.
    pub queue: Option<Uuid>,
    /// C8: the oldest contact message not answered yet.
    pub waiting_since: Option<DateTime<Utc>>,
    /// M6: its last message.
    pub last_message_at: Option<DateTime<Utc>>,
    /// C4: the contact's last message.
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// When it started.
    pub created_at: DateTime<Utc>,
    /// Its version (changes at every change).
    pub version: u64,
}

impl From<&Versioned<Conversation>> for ConversationView {
    fn from(stored: &Versioned<Conversation>) -> Self {
        let c = &stored.value;
        Self {
            id: c.id.as_uuid(),
            inbox: c.inbox.as_uuid(),
            contact: c.contact.as_uuid(),
            channel: name(&c.channel),
            status: name(&c.status()),
            interrupted: matches!(
                c.state,
                conversation_core::conversation::ConversationState::Interrupted { .. }
            ),
            assignment: c.assignment().map(json),
            assignee: c.assignee().map(|a| a.as_uuid()),
            queue: c.assignment().and_then(|a| a.queue()).map(|q| q.as_uuid()),
            waiting_since: c.waiting_since,
            last_message_at: c.last_message_at,
            last_inbound_at: c.last_inbound_at,
            created_at: c.created_at,
            version: stored.version,
        }
    }
}

/// A message.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    /// Its id.
    pub id: Uuid,
    /// Its conversation.
    pub conversation: Uuid,
    /// D7: the dialog it belongs to.
    pub dialog: Option<Uuid>,
    /// M9: its place in the conversation.
    pub sequence: u64,
    /// M1: `text`, `media`, `template`, `note`, `system`, `csat_request`, `csat_response`, `bot`.
    pub kind: String,
    /// `inbound`, `outbound` or `internal`.
    pub direction: String,
    /// Who wrote it: `{"type": "contact" | "agent" | "system" | "integration", "id": ...}`.
    #[schema(value_type = Object)]
    pub sender: serde_json::Value,
    /// Its text, card numbers masked (M3); empty once deleted (M5).
    pub body: String,
    /// M4: the message it quotes.
    pub quote: Option<Uuid>,
    /// M6: when it was written.
    pub created_at: DateTime<Utc>,
    /// M6: delivery status and times, for outbound messages.
    #[schema(value_type = Option<Object>)]
    pub delivery: Option<serde_json::Value>,
    /// M5: who deleted it and when.
    #[schema(value_type = Option<Object>)]
    pub deleted: Option<serde_json::Value>,
    /// The client's id of the message (M8).
    pub client_id: Option<String>,
    /// M7: its file, downloaded from `.../messages/{message}/attachment`; removed once deleted.
    pub attachment: Option<AttachmentView>,
}

/// M7: what a message's file is (its bytes are downloaded separately, always as an attachment).
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    /// Its sanitized file name.
    pub file_name: String,
    /// Its content type, from the allow-list.
    pub content_type: String,
    /// Its size in bytes.
    pub size_bytes: u64,
}

impl From<&Attachment> for AttachmentView {
    fn from(a: &Attachment) -> Self {
        Self {
            file_name: a.file_name.clone(),
            content_type: a.content_type.clone(),
            size_bytes: a.size_bytes,
        }
    }
}

impl From<&Message> for MessageView {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id.as_uuid(),
            conversation: m.conversation.as_uuid(),
            dialog: m.dialog.map(|d| d.as_uuid()),
            sequence: m.sequence,
            kind: name(&m.kind),
            direction: name(&m.direction),
            sender: json(&m.sender),
            body: m.body.clone(),
            quote: m.quote.map(|q| q.as_uuid()),
            created_at: m.created_at,
            delivery: m.delivery.as_ref().map(json),
            deleted: m.deleted.as_ref().map(json),
            client_id: m.client_id.clone(),
            attachment: m.attachment.as_ref().map(AttachmentView::from),
        }
    }
}

/// An event of the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// N1, L8: its sequence in the account's log; resume after the last one seen.
    pub sequence: u64,
    /// The event, as `conversation-core` serializes `DomainEvent`.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

impl From<&StoredEvent> for EventView {
    fn from(e: &StoredEvent) -> Self {
        Self {
            sequence: e.sequence,
            event: json(&e.event),
        }
    }
}
