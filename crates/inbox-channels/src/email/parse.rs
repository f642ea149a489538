//! One raw mail as a contact's message, parsed with mail-parser: `Message-ID` is the external
//! id (M8: a mail server's retry of the same mail is stored once), `From` the contact, the text
//! body (text/plain preferred, else the HTML as plain text) with a clearly marked quote of the
//! previous mail stripped, attachments with their bytes inline, `In-Reply-To` then `References`
//! (nearest first) as the thread (W7). Bounces and auto-replies are not conversations: they
//! come to no event.

use chrono::DateTime;
use conversation_core::ports::{
    ChannelEvent, ContactAddress, InboundChannelMessage, MediaReference, WebhookError,
};
use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders};

use super::quote::strip_quote;

/// Parses one raw mail: `None` for a bounce or an auto-reply.
///
/// # Errors
/// [`WebhookError::Malformed`] when it is not a mail, or lacks a `Message-ID` or a `From`
/// address.
pub fn parse_mail(raw: &[u8]) -> Result<Option<ChannelEvent>, WebhookError> {
    let malformed = |why: &str| WebhookError::Malformed(why.to_owned());
    let mail = MessageParser::default()
        .parse(raw)
        .filter(|mail| !mail.headers().is_empty())
        .ok_or_else(|| malformed("the body is not a mail (RFC 5322)"))?;
    if is_automatic(&mail) {
        return Ok(None);
    }
    let external_id = mail
        .message_id()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| malformed("the mail has no Message-ID"))?
        .to_owned();
    let sender = mail
        .from()
        .and_then(|from| from.first())
        .ok_or_else(|| malformed("the mail has no From address"))?;
    let address = sender
        .address()
        .map(str::trim)
        .filter(|address| address.contains('@'))
        .ok_or_else(|| malformed("the mail's From has no address"))?
        .to_ascii_lowercase();
    let name = sender
        .name()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned);
    let subject = mail
        .subject()
        .map(str::trim)
        .filter(|subject| !subject.is_empty())
        .map(str::to_owned);
    let media = attachments(&mail);
    let text = mail
        .body_text(0)
        .map(|text| text.into_owned())
        .unwrap_or_default();
    let mut body = strip_quote(&text.replace("\r\n", "\n")).trim().to_owned();
    if body.is_empty() && media.is_empty() {
        body = subject.clone().unwrap_or_default();
    }
    let mut thread = ids(mail.in_reply_to());
    for id in ids(mail.references()).into_iter().rev() {
        if !thread.contains(&id) {
            thread.push(id);
        }
    }
    let sent_at = mail
        .date()
        .and_then(|date| DateTime::from_timestamp(date.to_timestamp(), 0));
    Ok(Some(ChannelEvent::Message(InboundChannelMessage {
        external_id,
        from: ContactAddress {
            external_id: address.clone(),
            name,
            email: Some(address),
            phone: None,
        },
        body,
        media,
        quoted_external_id: None,
        reaction: false,
        thread,
        subject,
        sent_at,
    })))
}

/// Bounces and auto-replies: `Auto-Submitted` other than `no` (RFC 3834), `Precedence: bulk`,
/// `junk` or `auto_reply`, and delivery reports (`multipart/report`).
fn is_automatic(mail: &Message<'_>) -> bool {
    let header = |name: &str| {
        mail.header(name)
            .and_then(HeaderValue::as_text)
            .map(|value| value.trim().to_ascii_lowercase())
    };
    let auto_submitted = header("Auto-Submitted").is_some_and(|value| !value.starts_with("no"));
    let precedence = header("Precedence")
        .is_some_and(|value| matches!(value.as_str(), "bulk" | "junk" | "auto_reply"));
    let report = mail.root_part().content_type().is_some_and(|kind| {
        kind.ctype().eq_ignore_ascii_case("multipart")
            && kind
                .subtype()
                .is_some_and(|subtype| subtype.eq_ignore_ascii_case("report"))
    });
    auto_submitted || precedence || report
}

/// The message ids of an `In-Reply-To` or `References` header, in the header's order.
fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let mut ids: Vec<String> = match value {
        HeaderValue::Text(id) => vec![id.to_string()],
        HeaderValue::TextList(list) => list.iter().map(ToString::to_string).collect(),
        _ => Vec::new(),
    };
    ids.retain(|id| !id.trim().is_empty());
    ids
}

fn attachments(mail: &Message<'_>) -> Vec<MediaReference> {
    mail.attachments()
        .enumerate()
        .map(|(position, part)| {
            let content_type = part.content_type().map(|kind| match kind.subtype() {
                Some(subtype) => format!("{}/{}", kind.ctype(), subtype).to_ascii_lowercase(),
                None => kind.ctype().to_ascii_lowercase(),
            });
            MediaReference {
                locator: format!("attachment:{position}"),
                content_type,
                file_name: part.attachment_name().map(str::to_owned),
                inline: Some(part.contents().to_vec()),
            }
        })
        .collect()
}
