//! From rows to the core's values, and from the core's values to the columns that queries and
//! constraints need. Aggregates are stored whole as JSON next to those columns.

use conversation_core::conversation::{
    Assignment, Conversation, ConversationState, ConversationStatus,
};
use conversation_core::dialog::Dialog;
use conversation_core::message::Message;
use conversation_core::ports::{AggregateId, StoredEvent, Versioned, last_activity};
use conversation_core::{DomainEvent, Timestamp};
use uuid::Uuid;

use crate::error::{OrStoreError, StoreResult, json_error};
use crate::sql::Row;

/// JSON text of a value.
///
/// # Errors
/// Only for values serde cannot write (a bug).
pub fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(json_error)
}

/// A stored version as the core's `u64`.
fn version(row: &Row) -> StoreResult<u64> {
    row.count("version").store()
}

/// A conversation row (`state`, `version`).
///
/// # Errors
/// A corrupt row.
pub fn conversation(row: &Row) -> StoreResult<Versioned<Conversation>> {
    Ok(Versioned {
        value: row.json("state").store()?,
        version: version(row)?,
    })
}

/// A dialog row (`state`, `version`).
///
/// # Errors
/// A corrupt row.
pub fn dialog(row: &Row) -> StoreResult<Versioned<Dialog>> {
    Ok(Versioned {
        value: row.json("state").store()?,
        version: version(row)?,
    })
}

/// A message row (`state`, `seq`).
///
/// # Errors
/// A corrupt row.
pub fn message(row: &Row) -> StoreResult<Message> {
    let mut message: Message = row.json("state").store()?;
    message.sequence = row.count("seq").store()?;
    Ok(message)
}

/// An event row (`seq`, `aggregate_type`, `aggregate_id`, `payload`).
///
/// # Errors
/// A corrupt row.
pub fn stored_event(row: &Row) -> StoreResult<StoredEvent> {
    let id = row.uuid("aggregate_id").store()?;
    let aggregate = match row.text("aggregate_type").store()?.as_str() {
        "conversation" => {
            AggregateId::Conversation(conversation_core::ids::ConversationId::from_uuid(id))
        }
        "dialog" => AggregateId::Dialog(conversation_core::ids::DialogId::from_uuid(id)),
        _ => AggregateId::Agent(conversation_core::ids::AgentId::from_uuid(id)),
    };
    let event: DomainEvent = row.json("payload").store()?;
    Ok(StoredEvent {
        sequence: row.count("seq").store()?,
        aggregate,
        event,
    })
}

/// The type and id columns of an aggregate.
#[must_use]
pub const fn aggregate_columns(aggregate: AggregateId) -> (&'static str, Uuid) {
    match aggregate {
        AggregateId::Conversation(id) => ("conversation", id.as_uuid()),
        AggregateId::Dialog(id) => ("dialog", id.as_uuid()),
        AggregateId::Agent(id) => ("agent", id.as_uuid()),
    }
}

/// The query columns of a conversation.
pub struct ConversationColumns {
    /// C1 status.
    pub status: &'static str,
    /// C7.
    pub interrupted: bool,
    /// Its queue (closed: the last one, see `Conversation::belongs_to`).
    pub queue: Option<Uuid>,
    /// Its assignee (closed: the last one).
    pub assignee: Option<Uuid>,
    /// A conference guest.
    pub guest: Option<Uuid>,
    /// R2: whose load it counts toward.
    pub load_holder: Option<Uuid>,
    /// C7: agents alerted, as JSON.
    pub alerted: String,
    /// C8.
    pub waiting_since: Option<Timestamp>,
    /// R5: since when it waits in its queue.
    pub queued_since: Option<Timestamp>,
    /// C9 sort key.
    pub activity_at: Timestamp,
}

/// The name of a C1 status as stored.
#[must_use]
pub const fn status_name(status: ConversationStatus) -> &'static str {
    match status {
        ConversationStatus::Open => "open",
        ConversationStatus::Bot => "bot",
        ConversationStatus::Resolved => "resolved",
        ConversationStatus::Dropped => "dropped",
    }
}

/// The query columns of a conversation.
///
/// # Errors
/// Only for values serde cannot write (a bug).
pub fn conversation_columns(c: &Conversation) -> StoreResult<ConversationColumns> {
    let assignment = c.assignment();
    let (guest, queued_since) = match assignment {
        Some(Assignment::Conference { guest, .. }) => (Some(guest.as_uuid()), None),
        Some(Assignment::Waiting { since, .. }) => (None, Some(*since)),
        _ => (None, None),
    };
    let alerted: Vec<_> = match &c.state {
        ConversationState::Interrupted { agents, .. } => agents.iter().copied().collect(),
        _ => Vec::new(),
    };
    // C9: a closed conversation keeps its last queue and assignee for the `resolved` list.
    let (queue, assignee) = c.belongs_to();
    Ok(ConversationColumns {
        status: status_name(c.status()),
        interrupted: matches!(c.state, ConversationState::Interrupted { .. }),
        queue: queue.map(|q| q.as_uuid()),
        assignee: assignee.map(|a| a.as_uuid()),
        guest,
        load_holder: c.load_holder().map(|a| a.as_uuid()),
        alerted: to_json(&alerted)?,
        waiting_since: c.waiting_since,
        queued_since,
        activity_at: last_activity(c),
    })
}
