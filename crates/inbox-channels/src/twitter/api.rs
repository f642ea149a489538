//! The X (Twitter) API v2 over HTTP with the connection's OAuth 2.0 user access token:
//! `POST {base}/2/dm_conversations/with/{participant_id}/messages` (answer `data.dm_event_id`),
//! the one-shot `POST {base}/2/media/upload` for DM images (answer `data.id`), and downloads.
//! Errors (`{"title","detail","type"}` or `{"errors":[{"message"}]}`) map to transient (429 with
//! `x-rate-limit-reset`, 5xx, unreachable) or permanent delivery errors (H3).

use chrono::TimeDelta;
use conversation_core::ports::{ChannelConnection, DeliveryError};
use reqwest::header::HeaderMap;
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::Value;

/// The X API's public base URL, used when `settings.base_url` is not set.
pub const DEFAULT_BASE_URL: &str = "https://api.x.com";

/// One account's view of the X API.
pub(crate) struct XApi<'a> {
    client: &'a Client,
    base: &'a str,
    token: &'a str,
}

impl<'a> XApi<'a> {
    /// The API of this connection: `settings.base_url`, `secrets.access_token`.
    pub(crate) fn new(
        client: &'a Client,
        connection: &'a ChannelConnection,
    ) -> Result<Self, DeliveryError> {
        let token = connection
            .secret("access_token")
            .ok_or_else(|| permanent("the connection has no secrets.access_token".to_owned()))?;
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

    /// POSTs JSON to `{base}/{path}`.
    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> Result<Value, DeliveryError> {
        self.json(self.client.post(self.url(path)).json(body)).await
    }

    /// POSTs a multipart form to `{base}/{path}`.
    pub(crate) async fn post_form(
        &self,
        path: &str,
        form: reqwest::multipart::Form,
    ) -> Result<Value, DeliveryError> {
        self.json(self.client.post(self.url(path)).multipart(form))
            .await
    }

    /// Downloads a media URL with the access token.
    pub(crate) async fn download(
        &self,
        url: &str,
    ) -> Result<(Vec<u8>, Option<String>), DeliveryError> {
        let (status, headers, body) = self.exchange(self.client.get(url)).await?;
        if !status.is_success() {
            return Err(api_error(status, &headers, &body));
        }
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(|value| value.split(';').next().unwrap_or(value).trim().to_owned());
        Ok((body, content_type))
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    async fn json(&self, request: RequestBuilder) -> Result<Value, DeliveryError> {
        let (status, headers, body) = self.exchange(request).await?;
        if !status.is_success() {
            return Err(api_error(status, &headers, &body));
        }
        serde_json::from_slice(&body).map_err(|error| {
            permanent(format!("the X API answered {status} with no JSON: {error}"))
        })
    }

    async fn exchange(
        &self,
        request: RequestBuilder,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>), DeliveryError> {
        let response = request
            .bearer_auth(self.token)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport)?;
        Ok((status, headers, body.to_vec()))
    }
}

/// Maps an error answer; a 429's wait is `x-rate-limit-reset` (epoch seconds) minus the
/// answer's `date`, so no local clock is needed.
fn api_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> DeliveryError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let detail = parsed.as_ref().and_then(|value| {
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        text(value, "detail")
            .or_else(|| text(value, "title"))
            .or_else(|| value.get("errors")?.get(0).and_then(|e| text(e, "message")))
    });
    let reason = format!(
        "the X API answered {status}: {}",
        detail
            .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned())
    );
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        DeliveryError::Transient {
            reason,
            retry_after: rate_limit_wait(headers),
        }
    } else {
        permanent(reason)
    }
}

fn rate_limit_wait(headers: &HeaderMap) -> Option<TimeDelta> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let reset: i64 = header("x-rate-limit-reset")?.trim().parse().ok()?;
    let now = chrono::DateTime::parse_from_rfc2822(header("date")?).ok()?;
    Some(TimeDelta::seconds((reset - now.timestamp()).max(0)))
}

fn transport(error: reqwest::Error) -> DeliveryError {
    DeliveryError::Transient {
        reason: format!("the X API could not be reached: {error}"),
        retry_after: None,
    }
}

/// A delivery error that retrying will not fix.
pub(crate) fn permanent(reason: String) -> DeliveryError {
    DeliveryError::Permanent { reason }
}
