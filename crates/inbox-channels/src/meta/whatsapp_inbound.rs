//! WhatsApp Cloud API webhook payloads: `entry[].changes[]` with `field: "messages"` whose
//! `value.metadata.phone_number_id` is this inbox's number. `value.messages[]` are the
//! contact's messages (`id` = wamid, `from`, `type` text / image / video / audio / document /
//! sticker / reaction / button / interactive, `context.id` for a quoted reply, M4), with the
//! contact's name in `value.contacts[].profile.name`; `value.statuses[]` report on ours
//! (`delivered`, `read`, `failed` with `errors[]`, M6). Kinds the inbox cannot show are kept as
//! a short note naming the kind, so nothing the contact writes is lost (C3).

use conversation_core::message::DeliveryStatus;
use conversation_core::ports::{
    ChannelEvent, ContactAddress, InboundChannelMessage, MediaReference, StatusReport,
};
use serde_json::Value;

use super::webhook::timestamp_seconds;

/// The events of a verified WhatsApp payload addressed to `phone_number_id`.
pub(crate) fn parse(body: &Value, phone_number_id: &str) -> Vec<ChannelEvent> {
    let mut events = Vec::new();
    for entry in array(body.get("entry")) {
        for change in array(entry.get("changes")) {
            let Some(value) = change.get("value") else {
                continue;
            };
            let number = value
                .get("metadata")
                .and_then(|m| m.get("phone_number_id"))
                .and_then(Value::as_str);
            if text(change.get("field")) != Some("messages") || number != Some(phone_number_id) {
                continue;
            }
            for message in array(value.get("messages")) {
                events.extend(message_event(message, value).map(ChannelEvent::Message));
            }
            for status in array(value.get("statuses")) {
                events.extend(status_event(status).map(ChannelEvent::Status));
            }
        }
    }
    events
}

fn message_event(message: &Value, value: &Value) -> Option<InboundChannelMessage> {
    let id = text(message.get("id"))?;
    let from = text(message.get("from"))?;
    let kind = text(message.get("type")).unwrap_or("unknown");
    let name = array(value.get("contacts"))
        .iter()
        .find(|contact| text(contact.get("wa_id")) == Some(from))
        .and_then(|contact| text(contact.get("profile").and_then(|p| p.get("name"))));
    let mut parsed = InboundChannelMessage {
        external_id: id.to_owned(),
        from: ContactAddress {
            external_id: from.to_owned(),
            name: name.map(str::to_owned),
            email: None,
            phone: Some(format!("+{}", from.trim_start_matches('+'))),
        },
        body: String::new(),
        media: Vec::new(),
        quoted_external_id: text(message.get("context").and_then(|c| c.get("id")))
            .map(str::to_owned),
        reaction: false,
        thread: Vec::new(),
        subject: None,
        sent_at: timestamp_seconds(message.get("timestamp")),
    };
    let content = message.get(kind);
    match kind {
        "text" => parsed.body = field(content, "body"),
        "image" | "video" | "audio" | "document" | "sticker" => {
            parsed.body = field(content, "caption");
            let media_id = text(content.and_then(|c| c.get("id")))?;
            parsed.media.push(MediaReference {
                locator: media_id.to_owned(),
                content_type: text(content.and_then(|c| c.get("mime_type"))).map(str::to_owned),
                file_name: text(content.and_then(|c| c.get("filename"))).map(str::to_owned),
                inline: None,
            });
        }
        "reaction" => {
            let emoji = field(content, "emoji");
            if emoji.is_empty() {
                return None; // a withdrawn reaction
            }
            parsed.body = emoji;
            parsed.quoted_external_id =
                text(content.and_then(|c| c.get("message_id"))).map(str::to_owned);
            parsed.reaction = true;
        }
        "button" => parsed.body = field(content, "text"),
        "interactive" => {
            parsed.body = content
                .and_then(|c| c.get("button_reply").or_else(|| c.get("list_reply")))
                .map(|reply| field(Some(reply), "title"))
                .unwrap_or_default();
        }
        _ => {}
    }
    if parsed.body.is_empty() && parsed.media.is_empty() {
        parsed.body = format!("[a WhatsApp {kind} message this inbox cannot show]");
    }
    Some(parsed)
}

fn status_event(status: &Value) -> Option<StatusReport> {
    let id = text(status.get("id"))?;
    let delivery = match text(status.get("status"))? {
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "failed" => DeliveryStatus::Failed,
        _ => return None, // "sent" is what the send's answer already said
    };
    let reason = (delivery == DeliveryStatus::Failed).then(|| {
        array(status.get("errors")).first().map_or_else(
            || "WhatsApp reported the message failed".to_owned(),
            describe,
        )
    });
    Some(StatusReport {
        external_id: id.to_owned(),
        status: delivery,
        reason,
        at: timestamp_seconds(status.get("timestamp")),
    })
}

/// "131047 Re-engagement message: <details>".
fn describe(error: &Value) -> String {
    let code = error
        .get("code")
        .map(ToString::to_string)
        .unwrap_or_default();
    let title = text(error.get("title"))
        .or_else(|| text(error.get("message")))
        .unwrap_or("failed");
    match text(error.get("error_data").and_then(|d| d.get("details"))) {
        Some(details) => format!("{code} {title}: {details}"),
        None => format!("{code} {title}"),
    }
}

fn field(value: Option<&Value>, key: &str) -> String {
    text(value.and_then(|v| v.get(key)))
        .unwrap_or_default()
        .to_owned()
}

fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn array(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}
