//! An agent's reply as an email (H3, W7): the `Message-ID` is made from the message's own id
//! (`<{message id}@{domain of the inbox's address}>`), so the external id is known before the
//! mail leaves and a retried send carries the same `Message-ID`; `In-Reply-To` and
//! `References` name the contact's latest mail so their client threads the reply; the subject
//! is `Re: {subject}` (or names the conversation when the thread has none); media go as
//! attachments with the caption as the text.

use conversation_core::ports::{DeliveryError, OutboundContent, OutboundDelivery};
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

use super::smtp::SmtpConfig;

/// The `Message-ID` of an outbound message, without angle brackets: also its external id.
#[must_use]
pub fn message_id(config: &SmtpConfig, delivery: &OutboundDelivery) -> String {
    format!("{}@{}", delivery.message, config.domain())
}

/// The subject of a reply: `Re: {subject}` (not doubled), or one naming the conversation.
#[must_use]
pub fn reply_subject(delivery: &OutboundDelivery) -> String {
    match delivery.subject.as_deref().map(str::trim) {
        Some(subject) if !subject.is_empty() => {
            let already = subject
                .get(..3)
                .is_some_and(|start| start.eq_ignore_ascii_case("re:"));
            if already {
                subject.to_owned()
            } else {
                format!("Re: {subject}")
            }
        }
        _ => format!("Your conversation {}", delivery.conversation),
    }
}

/// Builds the mail of one delivery.
///
/// # Errors
/// [`DeliveryError::Permanent`] for what email cannot carry (templates), a contact address
/// that is not an address, or an attachment whose content type is not one.
pub fn build(config: &SmtpConfig, delivery: &OutboundDelivery) -> Result<Message, DeliveryError> {
    let from: Mailbox = config.from.parse().map_err(|error| {
        permanent(format!(
            "the inbox's address `{}` is not an email address: {error}",
            config.from
        ))
    })?;
    let to: Mailbox = delivery.to.external_id.parse().map_err(|error| {
        permanent(format!(
            "the contact's address `{}` is not an email address: {error}",
            delivery.to.external_id
        ))
    })?;
    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .message_id(Some(format!("<{}>", message_id(config, delivery))))
        .subject(reply_subject(delivery));
    if let Some(parent) = delivery
        .in_reply_to
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty())
    {
        let parent = format!("<{}>", parent.trim_start_matches('<').trim_end_matches('>'));
        builder = builder.in_reply_to(parent.clone()).references(parent);
    }
    let built = match &delivery.content {
        OutboundContent::Text { body } => builder.singlepart(SinglePart::plain(body.clone())),
        OutboundContent::Media {
            content_type,
            file_name,
            caption,
            bytes,
            ..
        } => {
            let kind = ContentType::parse(content_type).map_err(|error| {
                permanent(format!(
                    "the attachment's content type `{content_type}` is invalid: {error}"
                ))
            })?;
            let text = caption.clone().unwrap_or_default();
            builder.multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(text))
                    .singlepart(Attachment::new(file_name.clone()).body(bytes.clone(), kind)),
            )
        }
        OutboundContent::Template { name, .. } => {
            return Err(permanent(format!(
                "email has no templates (H2): template `{name}` cannot be sent"
            )));
        }
    };
    built.map_err(|error| permanent(format!("the mail cannot be built: {error}")))
}

fn permanent(reason: String) -> DeliveryError {
    DeliveryError::Permanent { reason }
}
