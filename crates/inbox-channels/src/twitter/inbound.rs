//! Account Activity API payloads for this inbox's account (`for_user_id`):
//! `direct_message_events[]` of `type: "message_create"` (`id`, `created_timestamp`,
//! `message_create.sender_id`, `message_create.message_data.text` and `.attachment.media`,
//! the sender's name in `users{}`) become contacts' messages, the account's own sent messages
//! are skipped; `direct_message_mark_read_events[]` by the contact become `read` reports on
//! `last_read_event_id` (M6). Typing indicators map to nothing the inbox stores.

use conversation_core::Timestamp;
use conversation_core::message::DeliveryStatus;
use conversation_core::ports::{
    ChannelEvent, ContactAddress, InboundChannelMessage, MediaReference, StatusReport,
};
use serde_json::Value;

/// The events of a verified payload, if it is for `user_id`.
pub(crate) fn parse(body: &Value, user_id: &str) -> Vec<ChannelEvent> {
    if text(body, "for_user_id") != Some(user_id) {
        return Vec::new();
    }
    let mut events = Vec::new();
    for event in array(body, "direct_message_events") {
        events.extend(message_event(event, body, user_id).map(ChannelEvent::Message));
    }
    for read in array(body, "direct_message_mark_read_events") {
        let Some(last) = text(read, "last_read_event_id") else {
            continue;
        };
        if text(read, "sender_id") == Some(user_id) {
            continue; // the account itself read the contact's messages
        }
        events.push(ChannelEvent::Status(StatusReport {
            external_id: last.to_owned(),
            status: DeliveryStatus::Read,
            reason: None,
            at: millis(read.get("created_timestamp")),
        }));
    }
    events
}

fn message_event(event: &Value, body: &Value, user_id: &str) -> Option<InboundChannelMessage> {
    if text(event, "type") != Some("message_create") {
        return None;
    }
    let id = text(event, "id")?;
    let create = event.get("message_create")?;
    let sender = text(create, "sender_id")?;
    if sender == user_id {
        return None; // our own message, echoed back
    }
    let data = create.get("message_data");
    let user = body.get("users").and_then(|users| users.get(sender));
    let media = data
        .and_then(|d| d.get("attachment"))
        .and_then(|a| a.get("media"))
        .and_then(|m| {
            Some(MediaReference {
                locator: text(m, "media_url_https")?.to_owned(),
                content_type: match text(m, "type") {
                    Some("photo") => Some("image/jpeg".to_owned()),
                    Some("video" | "animated_gif") => Some("video/mp4".to_owned()),
                    _ => None,
                },
                file_name: None,
                inline: None,
            })
        });
    Some(InboundChannelMessage {
        external_id: id.to_owned(),
        from: ContactAddress {
            external_id: sender.to_owned(),
            name: user.and_then(|u| text(u, "name")).map(str::to_owned),
            email: None,
            phone: None,
        },
        body: data
            .and_then(|d| text(d, "text"))
            .unwrap_or_default()
            .to_owned(),
        media: media.into_iter().collect(),
        quoted_external_id: None,
        reaction: false,
        thread: Vec::new(),
        subject: None,
        sent_at: millis(event.get("created_timestamp")),
    })
}

fn millis(value: Option<&Value>) -> Option<Timestamp> {
    let millis = match value? {
        Value::String(text) => text.parse().ok()?,
        other => other.as_i64()?,
    };
    chrono::DateTime::from_timestamp_millis(millis)
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn array<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}
