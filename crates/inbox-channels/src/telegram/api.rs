//! The Telegram Bot API over HTTP: `POST {base}/bot{token}/{method}` with JSON or multipart,
//! answers `{"ok":true,"result":...}` or `{"ok":false,"error_code","description",
//! "parameters":{"retry_after"}}`, mapped to transient (429, 5xx, unreachable) or permanent
//! delivery errors (H3); and file downloads from `{base}/file/bot{token}/{file_path}`.

use chrono::TimeDelta;
use conversation_core::ports::{ChannelConnection, DeliveryError};
use reqwest::{Client, RequestBuilder};
use serde_json::Value;

/// The Bot API's public base URL, used when `settings.base_url` is not set.
pub const DEFAULT_BASE_URL: &str = "https://api.telegram.org";

/// One bot's view of the Bot API.
pub(crate) struct BotApi<'a> {
    client: &'a Client,
    base: &'a str,
    token: &'a str,
}

impl<'a> BotApi<'a> {
    /// The Bot API of this connection: `settings.base_url`, `secrets.bot_token`.
    pub(crate) fn new(
        client: &'a Client,
        connection: &'a ChannelConnection,
    ) -> Result<Self, DeliveryError> {
        let token = connection
            .secret("bot_token")
            .ok_or_else(|| permanent("the connection has no secrets.bot_token".to_owned()))?;
        let base = connection
            .setting("base_url")
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/');
        Ok(Self {
            client,
            base,
            token,
        })
    }

    /// Calls `method` with a JSON body and returns its `result`.
    pub(crate) async fn call(&self, method: &str, body: &Value) -> Result<Value, DeliveryError> {
        self.send(self.client.post(self.url(method)).json(body))
            .await
    }

    /// Calls `method` with a multipart form (file uploads) and returns its `result`.
    pub(crate) async fn call_form(
        &self,
        method: &str,
        form: reqwest::multipart::Form,
    ) -> Result<Value, DeliveryError> {
        self.send(self.client.post(self.url(method)).multipart(form))
            .await
    }

    /// Downloads a file by the `file_path` `getFile` gave.
    pub(crate) async fn download(
        &self,
        file_path: &str,
    ) -> Result<(Vec<u8>, Option<String>), DeliveryError> {
        let url = format!("{}/file/bot{}/{}", self.base, self.token, file_path);
        let response = self.client.get(url).send().await.map_err(transport)?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(|value| value.split(';').next().unwrap_or(value).trim().to_owned());
        let bytes = response.bytes().await.map_err(transport)?;
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(DeliveryError::Transient {
                reason: format!("the Telegram file download answered {status}"),
                retry_after: None,
            });
        }
        if !status.is_success() {
            return Err(permanent(format!(
                "the Telegram file download answered {status}"
            )));
        }
        Ok((bytes.to_vec(), content_type))
    }

    fn url(&self, method: &str) -> String {
        format!("{}/bot{}/{}", self.base, self.token, method)
    }

    async fn send(&self, request: RequestBuilder) -> Result<Value, DeliveryError> {
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport)?;
        let answer: Option<Value> = serde_json::from_slice(&body).ok();
        match answer {
            Some(answer) if answer.get("ok").and_then(Value::as_bool) == Some(true) => {
                Ok(answer.get("result").cloned().unwrap_or(Value::Null))
            }
            Some(answer) => Err(api_error(&answer, status.as_u16())),
            None if status.is_server_error() => Err(DeliveryError::Transient {
                reason: format!("the Bot API answered {status}"),
                retry_after: None,
            }),
            None => Err(permanent(format!(
                "the Bot API answered {status} with no JSON"
            ))),
        }
    }
}

/// Maps `{"ok":false,"error_code","description","parameters"}`.
fn api_error(answer: &Value, status: u16) -> DeliveryError {
    let code = answer
        .get("error_code")
        .and_then(Value::as_u64)
        .unwrap_or(u64::from(status));
    let description = answer
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("no description");
    let reason = format!("Telegram error {code}: {description}");
    let retry_after = answer
        .get("parameters")
        .and_then(|p| p.get("retry_after"))
        .and_then(Value::as_i64)
        .map(TimeDelta::seconds);
    if code == 429 || code >= 500 || retry_after.is_some() {
        DeliveryError::Transient {
            reason,
            retry_after,
        }
    } else {
        permanent(reason)
    }
}

fn transport(error: reqwest::Error) -> DeliveryError {
    DeliveryError::Transient {
        reason: format!("the Bot API could not be reached: {}", error.without_url()),
        retry_after: None,
    }
}

/// A delivery error that retrying will not fix.
pub(crate) fn permanent(reason: String) -> DeliveryError {
    DeliveryError::Permanent { reason }
}
