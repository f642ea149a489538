//! The outgoing-webhook port (N5): posts a signed body to an integration's URL. The application
//! builds the body, decides when to post and retries; the adapter (in `inbox-channels`) signs
//! it with the inbox's one timestamped HMAC scheme (the same as the API channel's) and carries
//! it over HTTP.

use async_trait::async_trait;

/// What became of one post.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PostOutcome {
    /// The receiver answered with this status code.
    Answered(u16),
    /// No answer (timeout, refused connection), with why.
    NoAnswer(String),
}

/// One delivery to post.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct WebhookPost<'a> {
    /// Where to.
    pub url: &'a str,
    /// Headers besides the signature's (content type, event, delivery id, idempotency key).
    pub headers: &'a [(String, String)],
    /// The JSON body, signed as is.
    pub body: &'a [u8],
    /// The subscription's secret, the key of the signature.
    pub secret: &'a str,
    /// The signature's timestamp (Unix seconds), sent with it.
    pub timestamp: i64,
}

impl std::fmt::Debug for WebhookPost<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // S9: the secret is never written out.
        f.debug_struct("WebhookPost")
            .field("url", &self.url)
            .field("headers", &self.headers)
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

/// Signs and posts webhook bodies.
#[async_trait]
pub trait WebhookPoster: Send + Sync {
    /// Signs `post.body` with `post.secret` and `post.timestamp` and posts it.
    async fn post(&self, post: &WebhookPost<'_>) -> PostOutcome;
}
