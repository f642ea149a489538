//! The outgoing-webhook port (N5): posts a signed body to an integration's URL. The application
//! builds and signs the body; the adapter (in `inbox-channels`) only carries it over HTTP.

use async_trait::async_trait;

/// What became of one post.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PostOutcome {
    /// The receiver answered with this status code.
    Answered(u16),
    /// No answer (timeout, refused connection), with why.
    NoAnswer(String),
}

/// Posts webhook bodies.
#[async_trait]
pub trait WebhookPoster: Send + Sync {
    /// Posts `body` (JSON) to `url` with these headers.
    async fn post(&self, url: &str, headers: &[(String, String)], body: &[u8]) -> PostOutcome;
}
