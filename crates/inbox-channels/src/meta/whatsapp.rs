//! The WhatsApp Cloud API adapter (H1, H2). Connection keys: `settings.phone_number_id` (the
//! business number's id, as in the webhook's `metadata.phone_number_id`),
//! `secrets.app_secret`, `secrets.verify_token`, `secrets.access_token` (a system user's
//! token); optional `settings.api_version`, `settings.base_url`, `settings.template_language`.
//!
//! Sends go to `POST {base}/{version}/{phone_number_id}/messages` with
//! `messaging_product: "whatsapp"`: text,
//! approved templates (the only messages WhatsApp takes outside its 24-hour window, C4), and
//! media uploaded first to `POST /{phone_number_id}/media` and then sent by its id. Inbound
//! media is a media id: `GET /{media_id}` gives a URL that is downloaded with the same token.

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

use super::graph::{Graph, permanent};
use super::{check_common, template, webhook, whatsapp_inbound};

/// The WhatsApp Cloud API.
#[derive(Clone, Debug)]
pub struct WhatsAppAdapter {
    client: Client,
}

impl WhatsAppAdapter {
    /// The adapter, sending with `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl ChannelAdapter for WhatsAppAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Whatsapp
    }

    fn check_connection(&self, connection: &ChannelConnection) -> Result<(), String> {
        match connection.setting("phone_number_id") {
            None => Err(
                "settings.phone_number_id is missing: give the business phone number's id (WhatsApp Manager > API setup), not the number itself"
                    .to_owned(),
            ),
            Some(id) if !id.chars().all(|c| c.is_ascii_digit()) => Err(format!(
                "settings.phone_number_id \"{id}\" must be the numeric phone number id"
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
        let number = connection.setting("phone_number_id").unwrap_or_default();
        webhook::receive(connection, request, "whatsapp_business_account", |body| {
            Ok(WebhookOutcome::Events(whatsapp_inbound::parse(
                body, number,
            )))
        })
    }

    async fn fetch_media(
        &self,
        connection: &ChannelConnection,
        media: &MediaReference,
    ) -> Result<FetchedMedia, DeliveryError> {
        let graph = Graph::new(&self.client, connection)?;
        let info = graph.get_json(&media.locator).await?;
        let url = info
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| permanent(&format!("the media {} has no url", media.locator)))?;
        let (bytes, downloaded_type) = graph.download(url, true).await?;
        let content_type = info
            .get("mime_type")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| media.content_type.clone())
            .or(downloaded_type)
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        Ok(FetchedMedia {
            bytes,
            content_type,
            file_name: media
                .file_name
                .clone()
                .unwrap_or_else(|| media.locator.clone()),
        })
    }

    async fn send(
        &self,
        connection: &ChannelConnection,
        delivery: &OutboundDelivery,
    ) -> Result<SentReceipt, DeliveryError> {
        let graph = Graph::new(&self.client, connection)?;
        let number = connection
            .setting("phone_number_id")
            .ok_or_else(|| permanent("the connection has no settings.phone_number_id"))?;
        let mut body = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": delivery.to.external_id,
        });
        match &delivery.content {
            OutboundContent::Text { body: text } => {
                body["type"] = json!("text");
                body["text"] = json!({ "preview_url": false, "body": text });
            }
            OutboundContent::Template { name, parameters } => {
                body["type"] = json!("template");
                body["template"] = template::template_object(connection, name, parameters);
            }
            OutboundContent::Media {
                content_type,
                file_name,
                caption,
                bytes,
                ..
            } => {
                let media_id = upload(&graph, number, content_type, file_name, bytes).await?;
                let kind = media_kind(content_type);
                let mut media = json!({ "id": media_id });
                if let Some(caption) = caption.as_deref().filter(|_| kind != "audio") {
                    media["caption"] = json!(caption);
                }
                if kind == "document" {
                    media["filename"] = json!(file_name);
                }
                body["type"] = json!(kind);
                body[kind] = media;
            }
        }
        // `in_reply_to` is the contact's latest message, a threading hint for email, not a
        // quote the agent chose: sent as `context`, WhatsApp would show every reply quoting.
        let answer = graph
            .post_json(&format!("{number}/messages"), &body)
            .await?;
        answer
            .get("messages")
            .and_then(|messages| messages.get(0))
            .and_then(|message| message.get("id"))
            .and_then(Value::as_str)
            .map(|id| SentReceipt {
                external_id: id.to_owned(),
            })
            .ok_or_else(|| permanent(&format!("the answer has no messages[0].id: {answer}")))
    }

    async fn unsend(
        &self,
        _connection: &ChannelConnection,
        _external_id: &str,
    ) -> Result<(), DeliveryError> {
        Err(permanent(
            "the WhatsApp Cloud API cannot delete a sent message on the contact's side",
        ))
    }
}

/// Uploads a file to `POST /{phone_number_id}/media` and returns its media id.
async fn upload(
    graph: &Graph<'_>,
    number: &str,
    content_type: &str,
    file_name: &str,
    bytes: &[u8],
) -> Result<String, DeliveryError> {
    let part = Part::bytes(bytes.to_vec())
        .file_name(file_name.to_owned())
        .mime_str(content_type)
        .map_err(|_| permanent(&format!("\"{content_type}\" is not a content type")))?;
    let form = Form::new()
        .text("messaging_product", "whatsapp")
        .text("type", content_type.to_owned())
        .part("file", part);
    let answer = graph.post_form(&format!("{number}/media"), form).await?;
    answer
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| permanent(&format!("the media upload's answer has no id: {answer}")))
}

/// The message type WhatsApp sends a file of this content type as.
fn media_kind(content_type: &str) -> &'static str {
    match content_type {
        "image/jpeg" | "image/png" => "image",
        "video/mp4" | "video/3gpp" => "video",
        "audio/aac" | "audio/amr" | "audio/mpeg" | "audio/mp4" | "audio/ogg" => "audio",
        _ => "document",
    }
}
