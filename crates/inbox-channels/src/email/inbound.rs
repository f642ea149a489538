//! The inbound post (A4, S7): a mail server or provider posts one raw RFC 5322 message
//! (`Content-Type: message/rfc822`) with
//! `X-Inbox-Timestamp: {unix seconds}` and
//! `X-Inbox-Signature: sha256={hex HMAC-SHA256 of "{timestamp}.{raw body}" under the inbox's
//! inbound_secret}`. The signature is checked over the raw bytes before anything is parsed; a
//! timestamp more than [`MAX_SKEW_SECS`] away from now is refused as a replay. A Postfix or Exim
//! pipe can sign and post with `openssl` and `curl` (`docs/channels.md`).

use conversation_core::Timestamp;
use conversation_core::ports::{WebhookError, WebhookOutcome, WebhookRequest};

use crate::signature::{hmac_sha256_hex, verify_hex};

use super::parse;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-inbox-signature";
/// The header carrying the signed timestamp.
pub const TIMESTAMP_HEADER: &str = "x-inbox-timestamp";
/// How far the signed timestamp may be from now, either way (S7: a replay is refused).
pub const MAX_SKEW_SECS: i64 = 300;

/// The signature header's value for a body posted at `timestamp`: what a sender computes.
#[must_use]
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hmac_sha256_hex(secret.as_bytes(), &signed_bytes(timestamp, body))
    )
}

fn signed_bytes(timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    signed
}

/// A4, S7: checks the post's signature and timestamp under `secret`.
///
/// # Errors
/// [`WebhookError::Unauthorized`] naming what is missing, stale or wrong.
pub fn verify(secret: &str, request: &WebhookRequest, now: Timestamp) -> Result<(), WebhookError> {
    let unauthorized = |why: &str| WebhookError::Unauthorized(why.to_owned());
    let timestamp = request
        .header(TIMESTAMP_HEADER)
        .ok_or_else(|| unauthorized("the X-Inbox-Timestamp header is missing"))?;
    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| unauthorized("X-Inbox-Timestamp is not a number of seconds"))?;
    if (now.timestamp() - timestamp).abs() > MAX_SKEW_SECS {
        return Err(unauthorized(
            "X-Inbox-Timestamp is more than 5 minutes away from now (a replay, or a wrong clock)",
        ));
    }
    let signature = request
        .header(SIGNATURE_HEADER)
        .ok_or_else(|| unauthorized("the X-Inbox-Signature header is missing"))?;
    let hex = signature
        .trim()
        .strip_prefix("sha256=")
        .ok_or_else(|| unauthorized("X-Inbox-Signature does not start with sha256="))?;
    if verify_hex(
        secret.as_bytes(),
        &signed_bytes(timestamp, &request.body),
        hex,
    ) {
        Ok(())
    } else {
        Err(unauthorized("X-Inbox-Signature does not match the body"))
    }
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
