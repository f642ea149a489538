//! Messenger Platform webhook payloads (Messenger and Instagram): `entry[].messaging[]` events
//! for this inbox's account (`entry[].id`), turned into channel events. Messages carry
//! `message.mid`, `message.text`, `message.attachments[]` (`payload.url`) and
//! `message.reply_to.mid` (M4); `reaction` events react to one of the conversation's messages;
//! `delivery.mids` and Instagram's `read.mid` report on ours (M6), and Messenger's `read`
//! event, which names no message, says with its `watermark` that everything we sent up to that
//! time is read. Echoes of the account's own sends (`is_echo`), withdrawn reactions and
//! deleted messages are skipped.

use conversation_core::message::DeliveryStatus;
use conversation_core::ports::{
    ChannelEvent, ContactAddress, InboundChannelMessage, MediaReference, ReadWatermark,
    StatusReport,
};
use serde_json::Value;

use super::webhook::timestamp_millis;

/// The events of a verified Messenger Platform payload addressed to `account_id`.
pub(crate) fn parse(body: &Value, account_id: &str) -> Vec<ChannelEvent> {
    let mut events = Vec::new();
    for entry in array(body.get("entry")) {
        if entry.get("id").and_then(Value::as_str) != Some(account_id) {
            continue;
        }
        for event in array(entry.get("messaging")) {
            parse_event(event, &mut events);
        }
    }
    events
}

fn parse_event(event: &Value, events: &mut Vec<ChannelEvent>) {
    let Some(sender) = text(event.get("sender").and_then(|s| s.get("id"))) else {
        return;
    };
    let at = timestamp_millis(event.get("timestamp"));
    if let Some(message) = event.get("message") {
        events.extend(message_event(message, sender, at).map(ChannelEvent::Message));
    } else if let Some(reaction) = event.get("reaction") {
        events.extend(reaction_event(reaction, sender, event, at).map(ChannelEvent::Message));
    } else if let Some(postback) = event.get("postback") {
        if let Some(mid) = text(postback.get("mid")) {
            let title = text(postback.get("title")).unwrap_or_default();
            events.push(ChannelEvent::Message(inbound(mid, sender, title, at)));
        }
    } else if let Some(delivery) = event.get("delivery") {
        for mid in array(delivery.get("mids")).iter().filter_map(Value::as_str) {
            events.push(status(mid, DeliveryStatus::Delivered, at));
        }
    } else if let Some(read) = event.get("read") {
        if let Some(mid) = text(read.get("mid")) {
            // Instagram names the message read.
            events.push(status(mid, DeliveryStatus::Read, at));
        } else if let Some(up_to) = timestamp_millis(read.get("watermark")) {
            // Messenger: everything sent at or before the watermark is read.
            events.push(ChannelEvent::ReadUpTo(ReadWatermark {
                contact_external_id: sender.to_owned(),
                up_to,
            }));
        }
    }
}

fn message_event(
    message: &Value,
    sender: &str,
    at: Option<conversation_core::Timestamp>,
) -> Option<InboundChannelMessage> {
    let flag = |key: &str| message.get(key).and_then(Value::as_bool).unwrap_or(false);
    if flag("is_echo") || flag("is_deleted") {
        return None;
    }
    let mid = text(message.get("mid"))?;
    let mut parsed = inbound(
        mid,
        sender,
        text(message.get("text")).unwrap_or_default(),
        at,
    );
    parsed.quoted_external_id = message
        .get("reply_to")
        .and_then(|reply| text(reply.get("mid")))
        .map(str::to_owned);
    parsed.media = array(message.get("attachments"))
        .iter()
        .filter_map(|attachment| {
            let url = text(attachment.get("payload").and_then(|p| p.get("url")))?;
            Some(MediaReference {
                locator: url.to_owned(),
                content_type: text(attachment.get("type")).and_then(content_type_of),
                file_name: None,
                inline: None,
            })
        })
        .collect();
    if parsed.body.is_empty() && parsed.media.is_empty() {
        parsed.body = "[a message this inbox cannot show]".to_owned();
    }
    Some(parsed)
}

/// A reaction has no id of its own: it is keyed by the message, the reacting person and the
/// time, so a retried webhook is still stored once (M8).
fn reaction_event(
    reaction: &Value,
    sender: &str,
    event: &Value,
    at: Option<conversation_core::Timestamp>,
) -> Option<InboundChannelMessage> {
    if text(reaction.get("action")) != Some("react") {
        return None;
    }
    let mid = text(reaction.get("mid"))?;
    let emoji = text(reaction.get("emoji"))
        .or_else(|| text(reaction.get("reaction")))
        .unwrap_or_default();
    let stamp = event
        .get("timestamp")
        .map(ToString::to_string)
        .unwrap_or_default();
    let mut parsed = inbound(
        &format!("{mid}#reaction:{sender}:{stamp}"),
        sender,
        emoji,
        at,
    );
    parsed.quoted_external_id = Some(mid.to_owned());
    parsed.reaction = true;
    Some(parsed)
}

fn inbound(
    external_id: &str,
    sender: &str,
    body: &str,
    at: Option<conversation_core::Timestamp>,
) -> InboundChannelMessage {
    InboundChannelMessage {
        external_id: external_id.to_owned(),
        from: ContactAddress {
            external_id: sender.to_owned(),
            ..ContactAddress::default()
        },
        body: body.to_owned(),
        media: Vec::new(),
        quoted_external_id: None,
        reaction: false,
        thread: Vec::new(),
        subject: None,
        sent_at: at,
    }
}

fn status(
    mid: &str,
    status: DeliveryStatus,
    at: Option<conversation_core::Timestamp>,
) -> ChannelEvent {
    ChannelEvent::Status(StatusReport {
        external_id: mid.to_owned(),
        status,
        reason: None,
        at,
    })
}

/// The generic content type of a Messenger attachment type; the download gives the exact one.
fn content_type_of(kind: &str) -> Option<String> {
    match kind {
        "image" => Some("image/*"),
        "video" => Some("video/*"),
        "audio" => Some("audio/*"),
        "file" => Some("application/octet-stream"),
        _ => None,
    }
    .map(str::to_owned)
}

fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn array(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}
