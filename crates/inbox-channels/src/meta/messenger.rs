//! The Messenger Platform adapter for Facebook Messenger and Instagram direct messages (H1,
//! H2). Connection keys: `settings.page_id` (Messenger) or `settings.instagram_account_id`
//! (Instagram), the `entry[].id` this inbox takes events for; `secrets.app_secret`,
//! `secrets.verify_token`, `secrets.access_token` (the Page access token); optional
//! `settings.api_version`, `settings.base_url`, `settings.template_language`.
//!
//! Sends go to `POST {base}/{version}/me/messages`: as a `RESPONSE` inside the standard 24-hour
//! window, and, when Meta answers that the window is over, once more with the `HUMAN_AGENT`
//! message tag, which Meta allows for 7 days after the person's last message (C4).
//! Templates are Messenger utility messages (`messaging_type: UTILITY`); Instagram has none.
//! Media goes as an uploaded attachment (`filedata`) on Messenger; Instagram's Send API only
//! takes media by public URL, which the inbox's private attachments (M7) do not have.

use async_trait::async_trait;
use conversation_core::Timestamp;
use conversation_core::channel::ChannelKind;
use conversation_core::ports::{
    ChannelAdapter, ChannelConnection, DeliveryError, FetchedMedia, MediaReference,
    OutboundContent, OutboundDelivery, SentReceipt, WebhookError, WebhookOutcome, WebhookRequest,
};
use reqwest::Client;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use super::graph::{Graph, is_outside_window, permanent};
use super::{check_common, messenger_inbound, template, webhook};

/// Facebook Messenger or Instagram direct messages, through the Messenger Platform.
#[derive(Clone, Debug)]
pub struct MessengerAdapter {
    kind: ChannelKind,
    client: Client,
}

impl MessengerAdapter {
    /// The Facebook Messenger adapter.
    #[must_use]
    pub fn messenger(client: Client) -> Self {
        Self {
            kind: ChannelKind::Messenger,
            client,
        }
    }

    /// The Instagram direct messages adapter.
    #[must_use]
    pub fn instagram(client: Client) -> Self {
        Self {
            kind: ChannelKind::Instagram,
            client,
        }
    }

    fn is_instagram(&self) -> bool {
        self.kind == ChannelKind::Instagram
    }

    /// The setting naming the account this inbox is.
    fn account_key(&self) -> &'static str {
        if self.is_instagram() {
            "instagram_account_id"
        } else {
            "page_id"
        }
    }

    async fn send_message(
        &self,
        graph: &Graph<'_>,
        to: &str,
        message: Value,
    ) -> Result<SentReceipt, DeliveryError> {
        let mut body = json!({
            "recipient": { "id": to },
            "messaging_type": "RESPONSE",
            "message": message,
        });
        let first = graph.post_json("me/messages", &body).await;
        let answer = match first {
            Err(error) if is_outside_window(&error) => {
                body["messaging_type"] = json!("MESSAGE_TAG");
                body["tag"] = json!("HUMAN_AGENT");
                graph.post_json("me/messages", &body).await?
            }
            other => other?,
        };
        receipt(&answer)
    }

    async fn send_attachment(
        &self,
        graph: &Graph<'_>,
        to: &str,
        content: (&str, &str, &[u8]),
    ) -> Result<SentReceipt, DeliveryError> {
        let first = graph
            .post_form("me/messages", attachment_form(to, content, None)?)
            .await;
        let answer = match first {
            Err(error) if is_outside_window(&error) => {
                let form = attachment_form(to, content, Some("HUMAN_AGENT"))?;
                graph.post_form("me/messages", form).await?
            }
            other => other?,
        };
        receipt(&answer)
    }
}

#[async_trait]
impl ChannelAdapter for MessengerAdapter {
    fn kind(&self) -> ChannelKind {
        self.kind
    }

    fn check_connection(&self, connection: &ChannelConnection) -> Result<(), String> {
        let key = self.account_key();
        match connection.setting(key) {
            None => Err(format!(
                "settings.{key} is missing: give the id of the {} this inbox answers for, as in the webhook's entry[].id",
                if self.is_instagram() {
                    "Instagram professional account"
                } else {
                    "Facebook Page"
                }
            )),
            Some(id) if !id.chars().all(|c| c.is_ascii_digit()) => Err(format!(
                "settings.{key} \"{id}\" must be the numeric account id, not a name"
            )),
            Some(_) => check_common(connection),
        }
    }

    fn receive(
        &self,
        connection: &ChannelConnection,
        request: &WebhookRequest,
        _now: Timestamp,
    ) -> Result<WebhookOutcome, WebhookError> {
        let object = if self.is_instagram() {
            "instagram"
        } else {
            "page"
        };
        let account = connection.setting(self.account_key()).unwrap_or_default();
        webhook::receive(connection, request, object, |body| {
            Ok(WebhookOutcome::Events(messenger_inbound::parse(
                body, account,
            )))
        })
    }

    async fn fetch_media(
        &self,
        connection: &ChannelConnection,
        media: &MediaReference,
    ) -> Result<FetchedMedia, DeliveryError> {
        if let Some(bytes) = &media.inline {
            return Ok(fetched(bytes.clone(), media, None));
        }
        let graph = Graph::new(&self.client, connection)?;
        let (bytes, content_type) = graph.download(&media.locator, false).await?;
        Ok(fetched(bytes, media, content_type))
    }

    async fn send(
        &self,
        connection: &ChannelConnection,
        delivery: &OutboundDelivery,
    ) -> Result<SentReceipt, DeliveryError> {
        let graph = Graph::new(&self.client, connection)?;
        let to = delivery.to.external_id.as_str();
        match &delivery.content {
            OutboundContent::Text { body } => {
                self.send_message(&graph, to, json!({ "text": body })).await
            }
            OutboundContent::Template { .. } if self.is_instagram() => Err(permanent(
                "Instagram has no approved templates: a free-form reply is only possible inside the reply window",
            )),
            OutboundContent::Template { name, parameters } => {
                let body = json!({
                    "recipient": { "id": to },
                    "messaging_type": "UTILITY",
                    "message": { "template": template::template_object(connection, name, parameters) },
                });
                receipt(&graph.post_json("me/messages", &body).await?)
            }
            OutboundContent::Media { .. } if self.is_instagram() => Err(permanent(
                "Instagram's Send API takes media only by public URL, and the inbox's attachments are private",
            )),
            OutboundContent::Media {
                content_type,
                file_name,
                caption,
                bytes,
                ..
            } => {
                let sent = self
                    .send_attachment(&graph, to, (content_type, file_name, bytes))
                    .await?;
                if let Some(caption) = caption.as_deref().filter(|c| !c.trim().is_empty()) {
                    // Messenger attachments carry no text: the caption follows as its own
                    // message. The attachment is delivered either way, so a failed caption is
                    // logged rather than retried (a retry would send the attachment twice, H3).
                    if let Err(error) = self
                        .send_message(&graph, to, json!({ "text": caption }))
                        .await
                    {
                        tracing::warn!(message = %delivery.message, %error, "the caption of a Messenger attachment was not sent");
                    }
                }
                Ok(sent)
            }
        }
    }

    async fn unsend(
        &self,
        _connection: &ChannelConnection,
        _external_id: &str,
    ) -> Result<(), DeliveryError> {
        Err(permanent(
            "the Messenger Platform cannot remove a sent message from the person's side",
        ))
    }
}

/// The multipart Send API call that uploads one file as an attachment.
fn attachment_form(
    to: &str,
    (content_type, file_name, bytes): (&str, &str, &[u8]),
    tag: Option<&str>,
) -> Result<Form, DeliveryError> {
    let kind = match content_type.split('/').next() {
        Some("image") => "image",
        Some("video") => "video",
        Some("audio") => "audio",
        _ => "file",
    };
    let part = Part::bytes(bytes.to_vec())
        .file_name(file_name.to_owned())
        .mime_str(content_type)
        .map_err(|_| permanent(&format!("\"{content_type}\" is not a content type")))?;
    let message = json!({ "attachment": { "type": kind, "payload": { "is_reusable": false } } });
    let mut form = Form::new()
        .text("recipient", json!({ "id": to }).to_string())
        .text("message", message.to_string())
        .text(
            "messaging_type",
            if tag.is_some() {
                "MESSAGE_TAG"
            } else {
                "RESPONSE"
            },
        );
    if let Some(tag) = tag {
        form = form.text("tag", tag.to_owned());
    }
    Ok(form.part("filedata", part))
}

/// The Send API's answer `{"recipient_id", "message_id"}`.
fn receipt(answer: &Value) -> Result<SentReceipt, DeliveryError> {
    answer
        .get("message_id")
        .and_then(Value::as_str)
        .map(|id| SentReceipt {
            external_id: id.to_owned(),
        })
        .ok_or_else(|| {
            permanent(&format!(
                "the Send API's answer has no message_id: {answer}"
            ))
        })
}

/// A downloaded file, named after the URL's last path segment.
fn fetched(bytes: Vec<u8>, media: &MediaReference, content_type: Option<String>) -> FetchedMedia {
    let file_name = media.file_name.clone().unwrap_or_else(|| {
        media
            .locator
            .split(['?', '#'])
            .next()
            .and_then(|path| path.rsplit('/').next())
            .filter(|name| !name.is_empty())
            .unwrap_or("attachment")
            .to_owned()
    });
    FetchedMedia {
        bytes,
        content_type: content_type
            .or_else(|| media.content_type.clone())
            .unwrap_or_else(|| "application/octet-stream".to_owned()),
        file_name,
    }
}
