//! The inbound post (A4, S7): a mail server or provider posts one raw RFC 5322 message
//! (`Content-Type: message/rfc822`) with
//! `X-Inbox-Timestamp: {unix seconds}` and
//! `X-Inbox-Signature: sha256={hex HMAC-SHA256 of "{timestamp}.{raw body}" under the inbox's
//! inbound_secret}`. The signature is checked over the raw bytes before anything is parsed; a
//! timestamp more than [`MAX_SKEW_SECS`] away from now is refused as a replay. A Postfix or Exim
//! pipe can sign and post with `openssl` and `curl` (`docs/channels.md`).

use conversation_core::Timestamp;
use conversation_core::ports::{WebhookError, WebhookOutcome, WebhookRequest};

use super::parse;

pub use crate::signature::{
    MAX_SKEW_SECS, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_timestamped as sign,
};

/// A4, S7: checks the post's signature and timestamp under `secret`.
///
/// # Errors
/// [`WebhookError::Unauthorized`] naming what is missing, stale or wrong.
pub fn verify(secret: &str, request: &WebhookRequest, now: Timestamp) -> Result<(), WebhookError> {
    crate::signature::verify_timestamped(secret, request, now)
}

/// Verifies, then parses one posted mail.
///
/// # Errors
/// [`WebhookError::Unauthorized`] first (A4), then [`WebhookError::Malformed`] for a request
/// that is not one raw mail.
pub fn receive(
    secret: &str,
    request: &WebhookRequest,
    now: Timestamp,
) -> Result<WebhookOutcome, WebhookError> {
    if !request.method.eq_ignore_ascii_case("POST") {
        return Err(WebhookError::Malformed(format!(
            "an email inbox takes mails by POST, not {}",
            request.method
        )));
    }
    verify(secret, request, now)?;
    if let Some(content_type) = request.header("content-type") {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("message/rfc822") {
            return Err(WebhookError::Malformed(format!(
                "the body must be one raw mail with Content-Type message/rfc822, not {essence}"
            )));
        }
    }
    Ok(WebhookOutcome::Events(
        parse::parse_mail(&request.body)?.into_iter().collect(),
    ))
}
