//! The Graph API over HTTP for the Meta channels: JSON and multipart posts with the
//! connection's bearer token, media downloads, and the mapping of Graph's error answers
//! (`{"error":{"message","type","code","error_subcode","is_transient","error_data"}}`) to
//! transient or permanent delivery errors (H3).

use chrono::TimeDelta;
use conversation_core::ports::{ChannelConnection, DeliveryError};
use reqwest::{Client, RequestBuilder, Response, StatusCode, header::HeaderMap};
use serde_json::Value;

use super::{DEFAULT_API_VERSION, DEFAULT_BASE_URL};

/// Graph error codes worth retrying: API and app rate limits (4, 17, 32, 613, 80007, 130429,
/// 131056, 131048), temporary failures (1, 2, 1200, 131000, 133004).
const TRANSIENT_CODES: [i64; 13] = [
    1, 2, 4, 17, 32, 341, 613, 1200, 80007, 130429, 131000, 131048, 131056,
];

/// One connection's view of the Graph API.
pub(crate) struct Graph<'a> {
    client: &'a Client,
    base: String,
    token: &'a str,
}

impl<'a> Graph<'a> {
    /// The Graph API of this connection: `settings.base_url`, `settings.api_version`,
    /// `secrets.access_token`.
    pub(crate) fn new(
        client: &'a Client,
        connection: &'a ChannelConnection,
    ) -> Result<Self, DeliveryError> {
        let token = connection
            .secret("access_token")
            .ok_or_else(|| permanent("the connection has no secrets.access_token"))?;
        let base = connection
            .setting("base_url")
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/');
        let version = connection
            .setting("api_version")
            .unwrap_or(DEFAULT_API_VERSION);
        Ok(Self {
            client,
            base: format!("{base}/{version}"),
            token,
        })
    }

    /// POSTs a JSON body to `{base}/{version}/{path}` and returns the JSON answer.
    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> Result<Value, DeliveryError> {
        let request = self.client.post(self.url(path)).json(body);
        self.call(request).await
    }

    /// POSTs a multipart form to `{base}/{version}/{path}` and returns the JSON answer.
    pub(crate) async fn post_form(
        &self,
        path: &str,
        form: reqwest::multipart::Form,
    ) -> Result<Value, DeliveryError> {
        let request = self.client.post(self.url(path)).multipart(form);
        self.call(request).await
    }

    /// GETs `{base}/{version}/{path}` and returns the JSON answer.
    pub(crate) async fn get_json(&self, path: &str) -> Result<Value, DeliveryError> {
        let request = self.client.get(self.url(path));
        self.call(request).await
    }

    /// Downloads a file; `authorized` sends the bearer token (WhatsApp media URLs need it,
    /// Messenger's signed CDN URLs do not).
    pub(crate) async fn download(
        &self,
        url: &str,
        authorized: bool,
    ) -> Result<(Vec<u8>, Option<String>), DeliveryError> {
        let mut request = self.client.get(url);
        if authorized {
            request = request.bearer_auth(self.token);
        }
        download(request).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    async fn call(&self, request: RequestBuilder) -> Result<Value, DeliveryError> {
        let response = request
            .bearer_auth(self.token)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport)?;
        if status.is_success() {
            serde_json::from_slice(&body).map_err(|error| {
                permanent(&format!(
                    "the Graph API answered {status} with no JSON: {error}"
                ))
            })
        } else {
            Err(graph_error(status, &headers, &body))
        }
    }
}

/// Reads a download's bytes and content type, mapping failures like any call.
pub(crate) async fn download(
    request: RequestBuilder,
) -> Result<(Vec<u8>, Option<String>), DeliveryError> {
    let response: Response = request.send().await.map_err(transport)?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(transport)?;
    if !status.is_success() {
        return Err(graph_error(status, &headers, &body));
    }
    let content_type = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or(value).trim().to_owned());
    Ok((body.to_vec(), content_type))
}

/// Maps a Graph error answer: rate limits, 5xx and `is_transient` errors are retried, the rest
/// (expired window 131047 / 2018278, invalid parameter 100, bad token 190...) fail for good.
pub(crate) fn graph_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> DeliveryError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|value| value.get("error"));
    let code = error.and_then(|e| e.get("code")).and_then(Value::as_i64);
    let subcode = error
        .and_then(|e| e.get("error_subcode"))
        .and_then(Value::as_i64);
    let flagged = error
        .and_then(|e| e.get("is_transient"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let reason = match error {
        Some(error) => describe(error, status),
        None => format!(
            "the Graph API answered {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        ),
    };
    let transient = status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || flagged
        || code.is_some_and(|code| TRANSIENT_CODES.contains(&code));
    if transient && subcode != Some(2_018_278) {
        DeliveryError::Transient {
            reason,
            retry_after: retry_after(headers),
        }
    } else {
        DeliveryError::Permanent { reason }
    }
}

/// "Graph error 131047 (OAuthException): Re-engagement message: <details>".
fn describe(error: &Value, status: StatusCode) -> String {
    let text = |key: &str| error.get(key).and_then(Value::as_str);
    let code = error
        .get("code")
        .and_then(Value::as_i64)
        .map_or_else(|| status.as_u16().to_string(), |code| code.to_string());
    let subcode = error
        .get("error_subcode")
        .and_then(Value::as_i64)
        .map(|sub| format!("/{sub}"))
        .unwrap_or_default();
    let kind = text("type").map(|t| format!(" ({t})")).unwrap_or_default();
    let message = text("message").unwrap_or("no message");
    let details = error
        .get("error_data")
        .and_then(|data| data.get("details"))
        .and_then(Value::as_str)
        .or_else(|| text("error_user_msg"))
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    format!("Graph error {code}{subcode}{kind}: {message}{details}")
}

/// A `Retry-After: <seconds>` header, if the answer had one.
fn retry_after(headers: &HeaderMap) -> Option<TimeDelta> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<i64>().ok())
        .map(TimeDelta::seconds)
}

/// A failure to reach the provider at all (connection refused, timeout): worth retrying.
pub(crate) fn transport(error: reqwest::Error) -> DeliveryError {
    DeliveryError::Transient {
        reason: format!("the Graph API could not be reached: {error}"),
        retry_after: None,
    }
}

pub(crate) fn permanent(reason: &str) -> DeliveryError {
    DeliveryError::Permanent {
        reason: reason.to_owned(),
    }
}

/// Whether Messenger or Instagram refused a send because the standard 24-hour window is over
/// (code 10, subcode 2018278 or 2534022): the send may go again with the `HUMAN_AGENT` tag.
pub(crate) fn is_outside_window(error: &DeliveryError) -> bool {
    matches!(error, DeliveryError::Permanent { reason }
        if reason.starts_with("Graph error 10/2018278") || reason.starts_with("Graph error 10/2534022"))
}
