//! The generic API channel (H1, `ChannelKind::Api`): bring your own transport.
//!
//! **Connection**: setting `url` (where we send the contact's replies, `http` or `https`),
//! secret `secret` (at least 16 characters; signs both directions).
//!
//! **Signatures** (A4, S7, both directions): header `X-Inbox-Timestamp` is the Unix time in
//! seconds, header `X-Inbox-Signature` is `sha256=` and the lower-case hex HMAC-SHA256 of
//! `"{timestamp}.{raw body}"` under the secret. A timestamp more than [`MAX_SKEW_SECS`] away from
//! our clock is refused (replay), as is a missing or wrong signature: 401, nothing stored.
//!
//! **Inbound** (`POST` to the inbox's webhook), one event or `{"events": [...]}`:
//! - `{"type": "message", "id": "m-1", "from": {"id": "c-1", "name": "Ann", "email": null,
//!   "phone": null}, "text": "Hello", "quote": "m-0", "media": [{"url": "https://...",
//!   "content_type": "image/png", "file_name": "a.png"}], "sent_at": "2026-01-01T10:00:00Z"}`
//!   (only `id`, `from.id` and one of `text` or `media` are required; `id` is the deduplication
//!   key, M8);
//! - `{"type": "status", "id": "<the id we sent the message under>", "status": "delivered" |
//!   "read" | "failed", "reason": "...", "at": "..."}` (M6).
//!
//! **Outbound**: `POST {url}` with `{"type": "message", "id": "<our message id>",
//! "conversation": "...", "inbox": "...", "to": {"id": "c-1"}, "text": "...", "media": null |
//! {"file_name", "content_type", "data_base64"}, "in_reply_to": "m-1"}`, signed as above, with
//! header `Idempotency-Key: <our message id>` (the same on every retry: the receiver stores a
//! key once, H3). A 2xx answer is success; its JSON `{"id": "..."}`, if any, is the message's
//! external id (else our id is). 429 and 5xx (after `Retry-After`), timeouts and connection
//! failures are retried; any other status fails the message with the answer as the reason.
//!
//! **Unsend** (M5): `DELETE {url}/{external id}`, signed over an empty body; 2xx or 404 (already
//! gone) is success.
//!
//! **Media** of inbound messages: `GET` of the media's `url`, signed over an empty body.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use chrono::DateTime;
use conversation_core::Timestamp;
use conversation_core::channel::ChannelKind;
use conversation_core::message::DeliveryStatus;
use conversation_core::ports::{
    ChannelAdapter, ChannelConnection, ChannelEvent, Clock, ContactAddress, DeliveryError,
    FetchedMedia, InboundChannelMessage, MediaReference, OutboundContent, OutboundDelivery,
    SentReceipt, StatusReport, WebhookError, WebhookOutcome, WebhookRequest,
};
use serde::{Deserialize, Serialize};

use crate::http::{status_error, transport_error};

pub use crate::signature::{
    MAX_SKEW_SECS, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_timestamped as sign,
};

/// The header carrying the idempotency key of a send.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// The shortest secret accepted.
pub const MIN_SECRET_CHARS: usize = 16;

/// The generic API channel's adapter.
#[derive(Clone)]
pub struct ApiChannel {
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ApiChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiChannel").finish_non_exhaustive()
    }
}

impl ApiChannel {
    /// The adapter, with this HTTP client; `clock` times the signatures it makes.
    #[must_use]
    pub fn new(client: reqwest::Client, clock: Arc<dyn Clock>) -> Self {
        Self { client, clock }
    }

    fn signed(
        &self,
        request: reqwest::RequestBuilder,
        secret: &str,
        body: &[u8],
    ) -> reqwest::RequestBuilder {
        let timestamp = self.clock.now().timestamp();
        request
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, sign(secret, timestamp, body))
    }
}

fn url_of(connection: &ChannelConnection) -> Result<reqwest::Url, DeliveryError> {
    connection
        .setting("url")
        .and_then(|url| reqwest::Url::parse(url).ok())
        .ok_or_else(|| DeliveryError::Permanent {
            reason: "the connection has no valid `url`".into(),
        })
}

fn secret_of(connection: &ChannelConnection) -> Result<&str, DeliveryError> {
    connection
        .secret("secret")
        .ok_or_else(|| DeliveryError::Permanent {
            reason: "the connection has no `secret`".into(),
        })
}

/// An inbound payload: one event, or several.
#[derive(Deserialize)]
#[serde(untagged)]
enum Payload {
    Batch { events: Vec<Event> },
    One(Event),
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    Message {
        id: String,
        from: From,
        #[serde(default)]
        text: Option<String>,
        #[serde(default)]
        quote: Option<String>,
        #[serde(default)]
        reaction: bool,
        #[serde(default)]
        media: Vec<Media>,
        #[serde(default)]
        sent_at: Option<DateTime<chrono::Utc>>,
    },
    Status {
        id: String,
        status: Status,
        #[serde(default)]
        reason: Option<String>,
        #[serde(default)]
        at: Option<DateTime<chrono::Utc>>,
    },
}

#[derive(Deserialize)]
struct From {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

#[derive(Deserialize)]
struct Media {
    url: String,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    file_name: Option<String>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Delivered,
    Read,
    Failed,
}

/// What we send.
#[derive(Serialize)]
struct Outgoing<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    conversation: String,
    inbox: String,
    to: OutgoingTo<'a>,
    text: &'a str,
    media: Option<OutgoingMedia<'a>>,
    in_reply_to: Option<&'a str>,
}

#[derive(Serialize)]
struct OutgoingTo<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct OutgoingMedia<'a> {
    file_name: &'a str,
    content_type: &'a str,
    data_base64: String,
}

#[derive(Deserialize)]
struct Accepted {
    #[serde(default)]
    id: Option<String>,
}

fn nonblank(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

fn event_of(event: Event) -> Result<ChannelEvent, WebhookError> {
    match event {
        Event::Message {
            id,
            from,
            text,
            quote,
            reaction,
            media,
            sent_at,
        } => {
            if id.trim().is_empty() || from.id.trim().is_empty() {
                return Err(WebhookError::Malformed(
                    "a message needs a non-blank `id` and `from.id`".into(),
                ));
            }
            let body = text.unwrap_or_default();
            if body.trim().is_empty() && media.is_empty() {
                return Err(WebhookError::Malformed(
                    "a message needs `text` or `media`".into(),
                ));
            }
            Ok(ChannelEvent::Message(InboundChannelMessage {
                external_id: id,
                from: ContactAddress {
                    external_id: from.id,
                    name: nonblank(from.name),
                    email: nonblank(from.email),
                    phone: nonblank(from.phone),
                },
                body,
                media: media
                    .into_iter()
                    .map(|m| MediaReference {
                        locator: m.url,
                        content_type: m.content_type,
                        file_name: m.file_name,
                        inline: None,
                    })
                    .collect(),
                quoted_external_id: nonblank(quote),
                reaction,
                thread: Vec::new(),
                subject: None,
                sent_at,
            }))
        }
        Event::Status {
            id,
            status,
            reason,
            at,
        } => Ok(ChannelEvent::Status(StatusReport {
            external_id: id,
            status: match status {
                Status::Delivered => DeliveryStatus::Delivered,
                Status::Read => DeliveryStatus::Read,
                Status::Failed => DeliveryStatus::Failed,
            },
            reason,
            at,
        })),
    }
}

/// A4, S7: the request's signature is the secret's over `"{timestamp}.{body}"`, and fresh.
fn verify(secret: &str, request: &WebhookRequest, now: Timestamp) -> Result<(), WebhookError> {
    crate::signature::verify_timestamped(secret, request, now)
}

#[async_trait]
impl ChannelAdapter for ApiChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Api
    }

    fn check_connection(&self, connection: &ChannelConnection) -> Result<(), String> {
        let Some(url) = connection.setting("url") else {
            return Err(
                "the setting `url` is missing: give the address where replies are sent \
                        (http or https)"
                    .into(),
            );
        };
        match reqwest::Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {}
            _ => {
                return Err(format!(
                    "the setting `url` ({url}) is not an http or https address"
                ));
            }
        }
        match connection.secret("secret") {
            Some(secret) if secret.chars().count() >= MIN_SECRET_CHARS => Ok(()),
            Some(_) => Err(format!(
                "the secret `secret` is too short: give at least {MIN_SECRET_CHARS} characters"
            )),
            None => Err(format!(
                "the secret `secret` is missing: give the signing key shared with your \
                 service (at least {MIN_SECRET_CHARS} characters)"
            )),
        }
    }

    fn receive(
        &self,
        connection: &ChannelConnection,
        request: &WebhookRequest,
        now: Timestamp,
    ) -> Result<WebhookOutcome, WebhookError> {
        let secret = connection
            .secret("secret")
            .ok_or_else(|| WebhookError::Unauthorized("the inbox has no signing secret".into()))?;
        verify(secret, request, now)?;
        if !request.method.eq_ignore_ascii_case("POST") {
            return Err(WebhookError::Malformed(
                "the API channel takes events by POST".into(),
            ));
        }
        let payload: Payload = serde_json::from_slice(&request.body)
            .map_err(|e| WebhookError::Malformed(format!("not an API channel event: {e}")))?;
        let events = match payload {
            Payload::Batch { events } => events,
            Payload::One(event) => vec![event],
        };
        events
            .into_iter()
            .map(event_of)
            .collect::<Result<Vec<_>, _>>()
            .map(WebhookOutcome::Events)
    }

    async fn fetch_media(
        &self,
        connection: &ChannelConnection,
        media: &MediaReference,
    ) -> Result<FetchedMedia, DeliveryError> {
        let secret = secret_of(connection)?;
        let url = reqwest::Url::parse(&media.locator).map_err(|e| DeliveryError::Permanent {
            reason: format!("the media url is not valid: {e}"),
        })?;
        let response = self
            .signed(self.client.get(url.clone()), secret, b"")
            .send()
            .await
            .map_err(|e| transport_error(&e))?;
        if !response.status().is_success() {
            return Err(status_error(response).await);
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| media.content_type.clone())
            .unwrap_or_else(|| "application/octet-stream".into());
        let bytes = response.bytes().await.map_err(|e| transport_error(&e))?;
        let file_name = media.file_name.clone().unwrap_or_else(|| {
            url.path_segments()
                .and_then(|mut segments| segments.next_back().map(str::to_owned))
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| "file".into())
        });
        Ok(FetchedMedia {
            bytes: bytes.to_vec(),
            content_type,
            file_name,
        })
    }

    async fn send(
        &self,
        connection: &ChannelConnection,
        delivery: &OutboundDelivery,
    ) -> Result<SentReceipt, DeliveryError> {
        let url = url_of(connection)?;
        let secret = secret_of(connection)?;
        let (text, media) = match &delivery.content {
            OutboundContent::Text { body } => (body.as_str(), None),
            OutboundContent::Template { name, .. } => (name.as_str(), None),
            OutboundContent::Media {
                content_type,
                file_name,
                caption,
                bytes,
                ..
            } => (
                caption.as_deref().unwrap_or_default(),
                Some(OutgoingMedia {
                    file_name,
                    content_type,
                    data_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
                }),
            ),
        };
        let message = delivery.message.to_string();
        let body = serde_json::to_vec(&Outgoing {
            kind: "message",
            id: message.clone(),
            conversation: delivery.conversation.to_string(),
            inbox: delivery.inbox.to_string(),
            to: OutgoingTo {
                id: &delivery.to.external_id,
            },
            text,
            media,
            in_reply_to: delivery.in_reply_to.as_deref(),
        })
        .map_err(|e| DeliveryError::Permanent {
            reason: format!("the message cannot be encoded: {e}"),
        })?;
        let response = self
            .signed(self.client.post(url), secret, &body)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(IDEMPOTENCY_HEADER, &message)
            .body(body)
            .send()
            .await
            .map_err(|e| transport_error(&e))?;
        if !response.status().is_success() {
            return Err(status_error(response).await);
        }
        let text = response.text().await.unwrap_or_default();
        let id = serde_json::from_str::<Accepted>(&text)
            .ok()
            .and_then(|accepted| nonblank(accepted.id));
        Ok(SentReceipt {
            external_id: id.unwrap_or(message),
        })
    }

    async fn unsend(
        &self,
        connection: &ChannelConnection,
        external_id: &str,
    ) -> Result<(), DeliveryError> {
        let mut url = url_of(connection)?;
        let secret = secret_of(connection)?;
        url.path_segments_mut()
            .map_err(|()| DeliveryError::Permanent {
                reason: "the connection's `url` cannot take a path".into(),
            })?
            .pop_if_empty()
            .push(external_id);
        let response = self
            .signed(self.client.delete(url), secret, b"")
            .send()
            .await
            .map_err(|e| transport_error(&e))?;
        if response.status().is_success() || response.status().as_u16() == 404 {
            return Ok(());
        }
        Err(status_error(response).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::hmac_sha256_hex;

    const SECRET: &str = "a-shared-secret-0123";

    fn request(body: &str, timestamp: i64, signature: Option<String>) -> WebhookRequest {
        let mut headers = vec![(TIMESTAMP_HEADER.to_owned(), timestamp.to_string())];
        if let Some(signature) = signature {
            headers.push((SIGNATURE_HEADER.to_owned(), signature));
        }
        WebhookRequest {
            method: "POST".into(),
            query: Vec::new(),
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    fn connection() -> ChannelConnection {
        let mut connection = ChannelConnection::default();
        connection
            .settings
            .insert("url".into(), "http://127.0.0.1:9/inbox".into());
        connection.secrets.insert("secret".into(), SECRET.into());
        connection
    }

    fn at(secs: i64) -> Timestamp {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    fn adapter() -> ApiChannel {
        ApiChannel::new(
            reqwest::Client::new(),
            Arc::new(conversation_core::ports::ManualClock::new(at(0))),
        )
    }

    #[test]
    fn a4_signature_test_vector() {
        // HMAC-SHA256 of "1700000000.{}" under "a-shared-secret-0123".
        let signature = sign(SECRET, 1_700_000_000, b"{}");
        assert_eq!(
            signature,
            format!(
                "sha256={}",
                hmac_sha256_hex(SECRET.as_bytes(), b"1700000000.{}")
            )
        );
        assert_eq!(signature.len(), "sha256=".len() + 64);
    }

    #[test]
    fn a4_s7_signed_messages_and_statuses_are_parsed() {
        let body = r#"{"events":[
            {"type":"message","id":"m-1","from":{"id":"c-1","name":"Ann"},"text":"Hi","quote":"m-0"},
            {"type":"status","id":"x-9","status":"read"}]}"#;
        let outcome = adapter()
            .receive(
                &connection(),
                &request(body, 1_000, Some(sign(SECRET, 1_000, body.as_bytes()))),
                at(1_100),
            )
            .unwrap();
        let WebhookOutcome::Events(events) = outcome else {
            panic!("events expected");
        };
        assert_eq!(events.len(), 2);
        let ChannelEvent::Message(message) = &events[0] else {
            panic!("a message first");
        };
        assert_eq!(message.external_id, "m-1");
        assert_eq!(message.from.external_id, "c-1");
        assert_eq!(message.from.name.as_deref(), Some("Ann"));
        assert_eq!(message.quoted_external_id.as_deref(), Some("m-0"));
        assert!(matches!(&events[1], ChannelEvent::Status(s) if s.status == DeliveryStatus::Read));
    }

    #[test]
    fn a4_s7_missing_wrong_and_stale_signatures_are_refused() {
        let body = r#"{"type":"message","id":"m-1","from":{"id":"c-1"},"text":"Hi"}"#;
        let refused = |request: WebhookRequest, now: i64| {
            matches!(
                adapter().receive(&connection(), &request, at(now)),
                Err(WebhookError::Unauthorized(_))
            )
        };
        assert!(refused(request(body, 1_000, None), 1_000));
        assert!(refused(
            request(
                body,
                1_000,
                Some(sign("another-secret-000000", 1_000, body.as_bytes()))
            ),
            1_000
        ));
        // Signed over another timestamp than the header's.
        assert!(refused(
            request(body, 1_000, Some(sign(SECRET, 1_001, body.as_bytes()))),
            1_000
        ));
        // A replay: right signature, too old (or too far ahead).
        assert!(refused(
            request(body, 1_000, Some(sign(SECRET, 1_000, body.as_bytes()))),
            1_000 + MAX_SKEW_SECS + 1
        ));
        assert!(refused(
            request(body, 1_000, Some(sign(SECRET, 1_000, body.as_bytes()))),
            1_000 - MAX_SKEW_SECS - 1
        ));
        // The body changed after signing.
        let mut tampered = request(body, 1_000, Some(sign(SECRET, 1_000, body.as_bytes())));
        tampered.body.push(b' ');
        assert!(refused(tampered, 1_000));
    }

    #[test]
    fn a4_a_signed_body_that_is_not_an_event_is_malformed() {
        let body = r#"{"type":"message","id":"m-1","from":{"id":"c-1"}}"#;
        let result = adapter().receive(
            &connection(),
            &request(body, 1_000, Some(sign(SECRET, 1_000, body.as_bytes()))),
            at(1_000),
        );
        assert!(matches!(result, Err(WebhookError::Malformed(_))));
    }

    #[test]
    fn h1_the_connection_needs_an_http_url_and_a_long_secret() {
        let adapter = adapter();
        assert!(adapter.check_connection(&connection()).is_ok());
        let mut no_url = connection();
        no_url.settings.clear();
        assert!(
            adapter
                .check_connection(&no_url)
                .unwrap_err()
                .contains("url")
        );
        let mut ftp = connection();
        ftp.settings.insert("url".into(), "ftp://x.test".into());
        assert!(adapter.check_connection(&ftp).is_err());
        let mut short = connection();
        short.secrets.insert("secret".into(), "short".into());
        assert!(adapter.check_connection(&short).unwrap_err().contains("16"));
    }
}
