//! N5: the HTTP carrier of outgoing webhooks. The application builds, signs and retries each
//! delivery; this only posts it and reports the answer's status code, or why there was none.

use async_trait::async_trait;
use conversation_core::ports::{PostOutcome, WebhookPoster};

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
    async fn post(&self, url: &str, headers: &[(String, String)], body: &[u8]) -> PostOutcome {
        let mut request = self.client.post(url).body(body.to_vec());
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        match request.send().await {
            Ok(response) => PostOutcome::Answered(response.status().as_u16()),
            Err(error) => PostOutcome::NoAnswer(crate::http::transport_error(&error).to_string()),
        }
    }
}
