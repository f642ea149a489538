//! N5: the HTTP carrier of outgoing webhooks. The application builds and retries each
//! delivery; this signs it with the inbox's timestamped scheme (`X-Inbox-Timestamp` and
//! `X-Inbox-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">`, the API channel's,
//! [`crate::signature::sign_timestamped`]), posts it and reports the answer's status code, or
//! why there was none.

use async_trait::async_trait;
use conversation_core::ports::{PostOutcome, WebhookPost, WebhookPoster};

use crate::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_timestamped};

/// Posts webhook deliveries with the shared HTTP client.
#[derive(Clone, Debug)]
pub struct HttpPoster {
    client: reqwest::Client,
}

impl HttpPoster {
    /// A poster over this client.
    #[must_use]
    pub const fn new(client: reqwest::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl WebhookPoster for HttpPoster {
    async fn post(&self, post: &WebhookPost<'_>) -> PostOutcome {
        let mut request = self
            .client
            .post(post.url)
            .header(TIMESTAMP_HEADER, post.timestamp.to_string())
            .header(
                SIGNATURE_HEADER,
                sign_timestamped(post.secret, post.timestamp, post.body),
            )
            .body(post.body.to_vec());
        for (name, value) in post.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        match request.send().await {
            Ok(response) => PostOutcome::Answered(response.status().as_u16()),
            Err(error) => PostOutcome::NoAnswer(crate::http::transport_error(&error).to_string()),
        }
    }
}
