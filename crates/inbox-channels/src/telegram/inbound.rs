//! Telegram `Update` payloads. A `message` (`message_id`, `chat.id`, `from`, `text` or
//! `caption`, `photo[]`, `document`, `video`, `audio`, `voice`, `sticker`, `location`,
//! `contact`, `reply_to_message`) becomes a contact's message keyed `"{chat_id}:{message_id}"`,
//! which is unique per bot and so per inbox (M8). An `edited_message` becomes a new message
//! quoting the original (`"{chat_id}:{message_id}:edit:{edit_date}"`), and a
//! `message_reaction` with an emoji a reaction to the message it names
//! (`"{chat_id}:{message_id}:reaction:{update_id}"`). Messages from bots, service messages and
//! other update kinds are skipped.

use conversation_core::Timestamp;
use conversation_core::ports::{
    ChannelEvent, ContactAddress, InboundChannelMessage, MediaReference, WebhookError,
};
use serde_json::Value;

/// The events of one verified update.
pub(crate) fn parse(update: &Value) -> Result<Vec<ChannelEvent>, WebhookError> {
    let update_id = update
        .get("update_id")
        .and_then(Value::as_i64)
        .ok_or_else(|| WebhookError::Malformed("the update has no update_id".to_owned()))?;
    let parsed = if let Some(message) = update.get("message") {
        message_event(message, None)
    } else if let Some(message) = update.get("edited_message") {
        let edit = message
            .get("edit_date")
            .and_then(Value::as_i64)
            .unwrap_or(update_id);
        message_event(message, Some(edit))
    } else if let Some(reaction) = update.get("message_reaction") {
        reaction_event(reaction, update_id)
    } else {
        None
    };
    Ok(parsed.map(ChannelEvent::Message).into_iter().collect())
}

fn message_event(message: &Value, edited: Option<i64>) -> Option<InboundChannelMessage> {
    let chat = message.get("chat")?.get("id")?.as_i64()?;
    let id = message.get("message_id")?.as_i64()?;
    let from = message.get("from");
    if from
        .and_then(|f| f.get("is_bot"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        return None;
    }
    let mut parsed = inbound(
        format!("{chat}:{id}"),
        chat,
        from,
        seconds(message.get("date")),
    );
    parsed.body = text(message, "text")
        .or_else(|| text(message, "caption"))
        .unwrap_or_default()
        .to_owned();
    parsed.media = media(message);
    parsed.quoted_external_id = message
        .get("reply_to_message")
        .and_then(|quoted| quoted.get("message_id"))
        .and_then(Value::as_i64)
        .map(|quoted| format!("{chat}:{quoted}"));
    if let Some(edit) = edited {
        parsed.external_id = format!("{chat}:{id}:edit:{edit}");
        parsed.quoted_external_id = Some(format!("{chat}:{id}"));
        parsed.sent_at = seconds(message.get("edit_date")).or(parsed.sent_at);
    }
    if parsed.body.is_empty() && parsed.media.is_empty() {
        parsed.body = other_content(message)?;
    }
    Some(parsed)
}

/// Content without text or file: a sticker's emoji, a location, a shared contact.
fn other_content(message: &Value) -> Option<String> {
    if let Some(sticker) = message.get("sticker") {
        return Some(text(sticker, "emoji").unwrap_or("[sticker]").to_owned());
    }
    if let Some(location) = message.get("location") {
        let coordinate = |key| {
            location
                .get(key)
                .and_then(Value::as_f64)
                .unwrap_or_default()
        };
        return Some(format!(
            "[location {}, {}]",
            coordinate("latitude"),
            coordinate("longitude")
        ));
    }
    let contact = message.get("contact")?;
    Some(format!(
        "[contact {} {}]",
        text(contact, "first_name").unwrap_or_default(),
        text(contact, "phone_number").unwrap_or_default()
    ))
}

fn media(message: &Value) -> Vec<MediaReference> {
    let mut media = Vec::new();
    // Telegram sends each photo in several sizes, smallest first: the largest is kept.
    if let Some(photo) = message
        .get("photo")
        .and_then(Value::as_array)
        .and_then(|sizes| sizes.last())
    {
        media.extend(reference(photo, Some("image/jpeg")));
    }
    for kind in ["document", "video", "audio", "voice", "animation"] {
        if let Some(file) = message.get(kind) {
            media.extend(reference(file, None));
        }
    }
    media
}

fn reference(file: &Value, default_type: Option<&str>) -> Option<MediaReference> {
    Some(MediaReference {
        locator: text(file, "file_id")?.to_owned(),
        content_type: text(file, "mime_type").or(default_type).map(str::to_owned),
        file_name: text(file, "file_name").map(str::to_owned),
        inline: None,
    })
}

fn reaction_event(reaction: &Value, update_id: i64) -> Option<InboundChannelMessage> {
    let chat = reaction.get("chat")?.get("id")?.as_i64()?;
    let id = reaction.get("message_id")?.as_i64()?;
    let emoji = reaction
        .get("new_reaction")?
        .as_array()?
        .iter()
        .find_map(|r| {
            (text(r, "type") == Some("emoji"))
                .then(|| text(r, "emoji"))
                .flatten()
        })?;
    let mut parsed = inbound(
        format!("{chat}:{id}:reaction:{update_id}"),
        chat,
        reaction.get("user"),
        seconds(reaction.get("date")),
    );
    parsed.body = emoji.to_owned();
    parsed.quoted_external_id = Some(format!("{chat}:{id}"));
    parsed.reaction = true;
    Some(parsed)
}

fn inbound(
    external_id: String,
    chat: i64,
    from: Option<&Value>,
    sent_at: Option<Timestamp>,
) -> InboundChannelMessage {
    let name = from.and_then(|user| {
        let first = text(user, "first_name")?;
        Some(match text(user, "last_name") {
            Some(last) => format!("{first} {last}"),
            None => first.to_owned(),
        })
    });
    InboundChannelMessage {
        external_id,
        from: ContactAddress {
            external_id: chat.to_string(),
            name,
            email: None,
            phone: None,
        },
        body: String::new(),
        media: Vec::new(),
        quoted_external_id: None,
        reaction: false,
        thread: Vec::new(),
        subject: None,
        sent_at,
    }
}

fn seconds(value: Option<&Value>) -> Option<Timestamp> {
    chrono::DateTime::from_timestamp(value?.as_i64()?, 0)
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}
