//! What every adapter does with a provider's HTTP answer (H3): 2xx is success; 429 and 5xx,
//! timeouts and connection failures are transient (retried with backoff, after `Retry-After`
//! when the provider gives one); any other status is permanent, with the provider's words.

use chrono::Duration;
use conversation_core::ports::DeliveryError;

/// The longest piece of a provider's error body kept as the reason.
const REASON_CHARS: usize = 300;

/// A request that got no answer (timeout, refused connection): transient.
#[must_use]
pub fn transport_error(error: &reqwest::Error) -> DeliveryError {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    DeliveryError::Transient {
        reason: format!("the request {what}: {error}"),
        retry_after: None,
    }
}

/// The `Retry-After` of a response, in seconds (the HTTP-date form is not used by providers).
#[must_use]
pub fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<i64>()
        .ok()
        .map(Duration::seconds)
}

/// The error of a non-2xx answer: transient for 429 and 5xx, permanent otherwise.
pub async fn status_error(response: reqwest::Response) -> DeliveryError {
    let status = response.status();
    let retry_after = retry_after(&response);
    let body = response.text().await.unwrap_or_default();
    let body: String = body.trim().chars().take(REASON_CHARS).collect();
    let reason = if body.is_empty() {
        format!("the provider answered {status}")
    } else {
        format!("the provider answered {status}: {body}")
    };
    if status.as_u16() == 429 || status.is_server_error() {
        DeliveryError::Transient {
            reason,
            retry_after,
        }
    } else {
        DeliveryError::Permanent { reason }
    }
}
