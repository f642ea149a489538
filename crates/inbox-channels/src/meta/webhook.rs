//! The Graph API webhook's two halves (A4, S7): the `GET` subscription handshake
//! (`hub.mode=subscribe`, `hub.verify_token`, answered with `hub.challenge`) and, for every
//! `POST`, the `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>` check,
//! done before the body is even parsed as JSON.

use conversation_core::ports::{ChannelConnection, WebhookError, WebhookOutcome, WebhookRequest};
use serde_json::Value;

use crate::signature;

/// Verifies a Meta webhook call and hands the verified JSON body to `parse`, after checking
/// its `object` is `expected_object` ("page", "instagram" or "whatsapp_business_account").
pub(crate) fn receive(
    connection: &ChannelConnection,
    request: &WebhookRequest,
    expected_object: &str,
    parse: impl FnOnce(&Value) -> Result<WebhookOutcome, WebhookError>,
) -> Result<WebhookOutcome, WebhookError> {
    if request.method.eq_ignore_ascii_case("GET") {
        return handshake(connection, request);
    }
    if !request.method.eq_ignore_ascii_case("POST") {
        return Err(WebhookError::Malformed(format!(
            "Meta webhooks are GET (handshake) or POST, not {}",
            request.method
        )));
    }
    verify_signature(connection, request)?;
    let body: Value = serde_json::from_slice(&request.body)
        .map_err(|error| WebhookError::Malformed(format!("the body is not JSON: {error}")))?;
    match body.get("object").and_then(Value::as_str) {
        Some(object) if object == expected_object => parse(&body),
        Some(object) => Err(WebhookError::Malformed(format!(
            "the webhook is for object \"{object}\", this inbox takes \"{expected_object}\""
        ))),
        None => Err(WebhookError::Malformed(
            "the body has no \"object\" field".to_owned(),
        )),
    }
}

/// A4, S7: the raw body's signature, compared in constant time.
fn verify_signature(
    connection: &ChannelConnection,
    request: &WebhookRequest,
) -> Result<(), WebhookError> {
    let secret = connection.secret("app_secret").ok_or_else(|| {
        WebhookError::Unauthorized("the connection has no secrets.app_secret".to_owned())
    })?;
    let header = request.header("x-hub-signature-256").ok_or_else(|| {
        WebhookError::Unauthorized("the X-Hub-Signature-256 header is missing".to_owned())
    })?;
    let hex = header.trim().strip_prefix("sha256=").ok_or_else(|| {
        WebhookError::Unauthorized("X-Hub-Signature-256 does not start with sha256=".to_owned())
    })?;
    if signature::verify_hex(secret.as_bytes(), &request.body, hex) {
        Ok(())
    } else {
        Err(WebhookError::Unauthorized(
            "X-Hub-Signature-256 does not match the body".to_owned(),
        ))
    }
}

/// The subscription handshake: the challenge is echoed only for the right verify token.
fn handshake(
    connection: &ChannelConnection,
    request: &WebhookRequest,
) -> Result<WebhookOutcome, WebhookError> {
    let expected = connection.secret("verify_token").ok_or_else(|| {
        WebhookError::Unauthorized("the connection has no secrets.verify_token".to_owned())
    })?;
    if request.query_param("hub.mode") != Some("subscribe") {
        return Err(WebhookError::Malformed(
            "a GET must carry hub.mode=subscribe".to_owned(),
        ));
    }
    let given = request.query_param("hub.verify_token").unwrap_or_default();
    if !crate::signature::tokens_match(given, expected) {
        return Err(WebhookError::Unauthorized(
            "hub.verify_token is not this inbox's verify token".to_owned(),
        ));
    }
    let challenge = request
        .query_param("hub.challenge")
        .ok_or_else(|| WebhookError::Malformed("the handshake has no hub.challenge".to_owned()))?;
    Ok(WebhookOutcome::Handshake {
        content_type: "text/plain".to_owned(),
        body: challenge.to_owned(),
    })
}

/// The Graph webhooks' millisecond (Messenger) or second (WhatsApp) timestamps.
pub(crate) fn timestamp_millis(value: Option<&Value>) -> Option<conversation_core::Timestamp> {
    let millis = match value? {
        Value::Number(number) => number.as_i64()?,
        Value::String(text) => text.parse().ok()?,
        _ => return None,
    };
    chrono::DateTime::from_timestamp_millis(millis)
}

/// A timestamp in seconds, as a number or a string of digits (WhatsApp, Telegram).
pub(crate) fn timestamp_seconds(value: Option<&Value>) -> Option<conversation_core::Timestamp> {
    let seconds = match value? {
        Value::Number(number) => number.as_i64()?,
        Value::String(text) => text.parse().ok()?,
        _ => return None,
    };
    chrono::DateTime::from_timestamp(seconds, 0)
}
