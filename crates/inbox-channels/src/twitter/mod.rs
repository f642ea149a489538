//! The Twitter/X direct messages adapter (H1, H2), on the Account Activity API webhooks and the
//! X API v2. Connection keys: `settings.user_id` (the numeric id of the account whose DMs this
//! inbox answers, the payloads' `for_user_id`), `secrets.consumer_secret` (the app's API key
//! secret, which signs the CRC answer and every webhook call), `secrets.access_token` (an
//! OAuth 2.0 user access token of that account with `dm.write dm.read tweet.read users.read`);
//! optional `settings.base_url` (default `https://api.x.com`).
//!
//! Webhooks: the CRC `GET ?crc_token=` is answered `{"response_token":"sha256=<base64
//! HMAC-SHA256(consumer secret, crc_token)>"}`; every `POST` must carry
//! `x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer secret, raw body)>` (A4).
//! Sends: text, and images uploaded through the one-shot `POST /2/media/upload`
//! (`media_category=dm_image`). X has no templates, and DMs are not unsent from here.

mod api;
mod inbound;

pub use api::DEFAULT_BASE_URL;

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

use crate::signature;
use api::{XApi, permanent};

/// Twitter/X direct messages.
#[derive(Clone, Debug)]
pub struct TwitterAdapter {
    client: Client,
}

impl TwitterAdapter {
    /// The adapter, calling the X API with `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl ChannelAdapter for TwitterAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Twitter
    }

    fn check_connection(&self, connection: &ChannelConnection) -> Result<(), String> {
        match connection.setting("user_id") {
            None => {
                return Err("settings.user_id is missing: give the numeric id of the X account whose direct messages this inbox answers".to_owned());
            }
            Some(id) if !id.chars().all(|c| c.is_ascii_digit()) => {
                return Err(format!(
                    "settings.user_id \"{id}\" must be the account's numeric id, not its @handle"
                ));
            }
            Some(_) => {}
        }
        if connection.secret("consumer_secret").is_none() {
            return Err("secrets.consumer_secret is missing: give the app's API key secret, which signs the webhooks".to_owned());
        }
        if connection.secret("access_token").is_none() {
            return Err("secrets.access_token is missing: give an OAuth 2.0 user access token of the account with the dm.write, dm.read, tweet.read and users.read scopes".to_owned());
        }
        match connection.setting("base_url") {
            Some(url) if !(url.starts_with("https://") || url.starts_with("http://")) => {
                Err(format!(
                    "settings.base_url \"{url}\" must start with https:// (or http:// for a local server)"
                ))
            }
            _ => Ok(()),
        }
    }

    fn receive(
        &self,
        connection: &ChannelConnection,
        request: &WebhookRequest,
        _now: Timestamp,
    ) -> Result<WebhookOutcome, WebhookError> {
        let secret = connection.secret("consumer_secret").ok_or_else(|| {
            WebhookError::Unauthorized("the connection has no secrets.consumer_secret".to_owned())
        })?;
        if request.method.eq_ignore_ascii_case("GET") {
            let token = request.query_param("crc_token").ok_or_else(|| {
                WebhookError::Malformed("a GET must carry the crc_token challenge".to_owned())
            })?;
            let answer = signature::hmac_sha256_base64(secret.as_bytes(), token.as_bytes());
            return Ok(WebhookOutcome::Handshake {
                content_type: "application/json".to_owned(),
                body: json!({ "response_token": format!("sha256={answer}") }).to_string(),
            });
        }
        let header = request
            .header("x-twitter-webhooks-signature")
            .ok_or_else(|| {
                WebhookError::Unauthorized(
                    "the x-twitter-webhooks-signature header is missing".to_owned(),
                )
            })?;
        let given = header.trim().strip_prefix("sha256=").ok_or_else(|| {
            WebhookError::Unauthorized(
                "x-twitter-webhooks-signature does not start with sha256=".to_owned(),
            )
        })?;
        if !signature::verify_base64(secret.as_bytes(), &request.body, given) {
            return Err(WebhookError::Unauthorized(
                "x-twitter-webhooks-signature does not match the body".to_owned(),
            ));
        }
        if !request.method.eq_ignore_ascii_case("POST") {
            return Err(WebhookError::Malformed(format!(
                "Account Activity events are POSTed, not sent with {}",
                request.method
            )));
        }
        let body: Value = serde_json::from_slice(&request.body)
            .map_err(|error| WebhookError::Malformed(format!("the body is not JSON: {error}")))?;
        let user = connection.setting("user_id").unwrap_or_default();
        Ok(WebhookOutcome::Events(inbound::parse(&body, user)))
    }

    async fn fetch_media(
        &self,
        connection: &ChannelConnection,
        media: &MediaReference,
    ) -> Result<FetchedMedia, DeliveryError> {
        let api = XApi::new(&self.client, connection)?;
        let (bytes, downloaded_type) = api.download(&media.locator).await?;
        Ok(FetchedMedia {
            bytes,
            content_type: downloaded_type
                .or_else(|| media.content_type.clone())
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            file_name: media.file_name.clone().unwrap_or_else(|| {
                media
                    .locator
                    .split(['?', '#'])
                    .next()
                    .and_then(|path| path.rsplit('/').next())
                    .unwrap_or("attachment")
                    .to_owned()
            }),
        })
    }

    async fn send(
        &self,
        connection: &ChannelConnection,
        delivery: &OutboundDelivery,
    ) -> Result<SentReceipt, DeliveryError> {
        let api = XApi::new(&self.client, connection)?;
        let body = match &delivery.content {
            OutboundContent::Text { body } => json!({ "text": body }),
            OutboundContent::Template { .. } => {
                return Err(permanent("X direct messages have no templates".to_owned()));
            }
            OutboundContent::Media {
                content_type,
                file_name,
                caption,
                bytes,
                ..
            } => {
                let media_id = upload(&api, content_type, file_name, bytes).await?;
                let mut body = json!({ "attachments": [{ "media_id": media_id }] });
                if let Some(caption) = caption {
                    body["text"] = json!(caption);
                }
                body
            }
        };
        let path = format!(
            "2/dm_conversations/with/{}/messages",
            delivery.to.external_id
        );
        let answer = api.post_json(&path, &body).await?;
        answer
            .get("data")
            .and_then(|data| data.get("dm_event_id"))
            .and_then(Value::as_str)
            .map(|id| SentReceipt {
                external_id: id.to_owned(),
            })
            .ok_or_else(|| {
                permanent(format!(
                    "the X API's answer has no data.dm_event_id: {answer}"
                ))
            })
    }

    async fn unsend(
        &self,
        _connection: &ChannelConnection,
        _external_id: &str,
    ) -> Result<(), DeliveryError> {
        Err(permanent(
            "X direct messages are not unsent from this inbox".to_owned(),
        ))
    }
}

/// Uploads an image with the one-shot `POST /2/media/upload` and returns its media id.
async fn upload(
    api: &XApi<'_>,
    content_type: &str,
    file_name: &str,
    bytes: &[u8],
) -> Result<String, DeliveryError> {
    if !matches!(
        content_type,
        "image/jpeg" | "image/png" | "image/webp" | "image/bmp"
    ) {
        return Err(permanent(format!(
            "X direct messages take JPEG, PNG, WebP or BMP images from this inbox, not {content_type}"
        )));
    }
    let part = Part::bytes(bytes.to_vec())
        .file_name(file_name.to_owned())
        .mime_str(content_type)
        .map_err(|_| permanent(format!("\"{content_type}\" is not a content type")))?;
    let form = Form::new()
        .text("media_category", "dm_image")
        .text("media_type", content_type.to_owned())
        .part("media", part);
    let answer = api.post_form("2/media/upload", form).await?;
    answer
        .get("data")
        .and_then(|data| data.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            permanent(format!(
                "the media upload's answer has no data.id: {answer}"
            ))
        })
}
