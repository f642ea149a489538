//! The Telegram Bot API adapter (H1, H2). Connection keys: `secrets.bot_token` (from
//! @BotFather), `secrets.secret_token` (1 to 256 of `A-Z a-z 0-9 _ -`, given to `setWebhook`
//! as `secret_token`, which Telegram sends back in every call's
//! `X-Telegram-Bot-Api-Secret-Token` header, A4); optional `settings.base_url` (default
//! `https://api.telegram.org`, or a local Bot API server).
//!
//! Sends: `sendMessage`, `sendPhoto` or
//! `sendDocument` with the file uploaded (multipart); unsend (M5) is `deleteMessage`; inbound
//! files are fetched with `getFile` and `{base}/file/bot{token}/{file_path}`. Telegram has no
//! templates, no reply window (C4) and no delivery or read receipts for bots.

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

use api::{BotApi, permanent};

/// A Telegram bot.
#[derive(Clone, Debug)]
pub struct TelegramAdapter {
    client: Client,
}

impl TelegramAdapter {
    /// The adapter, calling the Bot API with `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl ChannelAdapter for TelegramAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Telegram
    }

    fn check_connection(&self, connection: &ChannelConnection) -> Result<(), String> {
        let token = connection.secret("bot_token").ok_or(
            "secrets.bot_token is missing: give the bot's token from @BotFather (like 123456:ABC-DEF...)",
        )?;
        if !token.split_once(':').is_some_and(|(id, rest)| {
            !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) && !rest.is_empty()
        }) {
            return Err(
                "secrets.bot_token is not a bot token: it looks like 123456:ABC-DEF...".to_owned(),
            );
        }
        let secret = connection.secret("secret_token").ok_or(
            "secrets.secret_token is missing: give the secret_token you pass to setWebhook (1 to 256 of A-Z a-z 0-9 _ -)",
        )?;
        if secret.len() > 256
            || !secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(
                "secrets.secret_token must be 1 to 256 characters of A-Z a-z 0-9 _ -, as Telegram requires"
                    .to_owned(),
            );
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
        let expected = connection.secret("secret_token").ok_or_else(|| {
            WebhookError::Unauthorized("the connection has no secrets.secret_token".to_owned())
        })?;
        let given = request
            .header("x-telegram-bot-api-secret-token")
            .ok_or_else(|| {
                WebhookError::Unauthorized(
                    "the X-Telegram-Bot-Api-Secret-Token header is missing".to_owned(),
                )
            })?;
        if !crate::signature::tokens_match(given, expected) {
            return Err(WebhookError::Unauthorized(
                "X-Telegram-Bot-Api-Secret-Token is not this inbox's secret token".to_owned(),
            ));
        }
        if !request.method.eq_ignore_ascii_case("POST") {
            return Err(WebhookError::Malformed(format!(
                "Telegram updates are POSTed, not sent with {}",
                request.method
            )));
        }
        let update: Value = serde_json::from_slice(&request.body)
            .map_err(|error| WebhookError::Malformed(format!("the update is not JSON: {error}")))?;
        inbound::parse(&update).map(WebhookOutcome::Events)
    }

    async fn fetch_media(
        &self,
        connection: &ChannelConnection,
        media: &MediaReference,
    ) -> Result<FetchedMedia, DeliveryError> {
        let api = BotApi::new(&self.client, connection)?;
        let file = api
            .call("getFile", &json!({ "file_id": media.locator }))
            .await?;
        let path = file
            .get("file_path")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                permanent(
                    "getFile gave no file_path (files over 20 MB cannot be fetched by bots)"
                        .to_owned(),
                )
            })?;
        let (bytes, downloaded_type) = api.download(path).await?;
        Ok(FetchedMedia {
            bytes,
            content_type: media
                .content_type
                .clone()
                .or(downloaded_type)
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            file_name: media
                .file_name
                .clone()
                .unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path).to_owned()),
        })
    }

    async fn send(
        &self,
        connection: &ChannelConnection,
        delivery: &OutboundDelivery,
    ) -> Result<SentReceipt, DeliveryError> {
        let api = BotApi::new(&self.client, connection)?;
        let chat = chat_id(&delivery.to.external_id);
        // `in_reply_to` (the contact's latest message) is a threading hint, not a quote the
        // agent chose: sent as `reply_parameters`, every reply would show as quoting.
        let result = match &delivery.content {
            OutboundContent::Text { body } => {
                let request = json!({ "chat_id": chat, "text": body });
                api.call("sendMessage", &request).await?
            }
            OutboundContent::Template { .. } => {
                return Err(permanent("Telegram has no templates".to_owned()));
            }
            OutboundContent::Media {
                content_type,
                file_name,
                caption,
                bytes,
                ..
            } => {
                let (method, field) = match content_type.as_str() {
                    "image/jpeg" | "image/png" => ("sendPhoto", "photo"),
                    _ => ("sendDocument", "document"),
                };
                let part = Part::bytes(bytes.clone())
                    .file_name(file_name.clone())
                    .mime_str(content_type)
                    .map_err(|_| permanent(format!("\"{content_type}\" is not a content type")))?;
                let mut form = Form::new().text("chat_id", delivery.to.external_id.clone());
                if let Some(caption) = caption {
                    form = form.text("caption", caption.clone());
                }
                api.call_form(method, form.part(field, part)).await?
            }
        };
        let message_id = result
            .get("message_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| {
                permanent(format!("the Bot API's answer has no message_id: {result}"))
            })?;
        let chat = result
            .get("chat")
            .and_then(|c| c.get("id"))
            .and_then(Value::as_i64)
            .map_or_else(|| delivery.to.external_id.clone(), |id| id.to_string());
        Ok(SentReceipt {
            external_id: format!("{chat}:{message_id}"),
        })
    }

    async fn unsend(
        &self,
        connection: &ChannelConnection,
        external_id: &str,
    ) -> Result<(), DeliveryError> {
        let (chat, message) = external_id
            .split_once(':')
            .and_then(|(chat, message)| Some((chat, message.parse::<i64>().ok()?)))
            .ok_or_else(|| {
                permanent(format!(
                    "\"{external_id}\" is not a Telegram message id (chat:message)"
                ))
            })?;
        let api = BotApi::new(&self.client, connection)?;
        api.call(
            "deleteMessage",
            &json!({ "chat_id": chat_id(chat), "message_id": message }),
        )
        .await
        .map(|_| ())
    }
}

/// A chat id as Telegram takes it: a number, or an `@channel` name.
fn chat_id(external_id: &str) -> Value {
    external_id
        .parse::<i64>()
        .map_or_else(|_| json!(external_id), |id| json!(id))
}
