//! HMAC-SHA256 signatures, as the providers use them (A4, S7, N5): computed over the raw body,
//! compared in constant time. Also the inbox's own timestamped scheme, shared by the generic API
//! channel and the email inbound post: `X-Inbox-Signature: sha256=<hex HMAC-SHA256 of
//! "{X-Inbox-Timestamp}.{raw body}">`, refused when the timestamp is more than
//! [`MAX_SKEW_SECS`] away from now (a replay).

use base64::Engine;
use conversation_core::Timestamp;
use conversation_core::ports::{WebhookError, WebhookRequest};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The HMAC-SHA256 of `message` under `key`.
#[must_use]
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The HMAC-SHA256 of `message` under `key`, in lower-case hex.
#[must_use]
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    hmac_sha256(key, message)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The HMAC-SHA256 of `message` under `key`, in standard base64.
#[must_use]
pub fn hmac_sha256_base64(key: &[u8], message: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(key, message))
}

/// Whether `signature_hex` (any case) is the HMAC-SHA256 of `message` under `key`, compared in
/// constant time.
#[must_use]
pub fn verify_hex(key: &[u8], message: &[u8], signature_hex: &str) -> bool {
    let Some(signature) = decode_hex(signature_hex.trim()) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.verify_slice(&signature).is_ok()
}

/// Whether `signature_base64` is the HMAC-SHA256 of `message` under `key`, compared in
/// constant time.
#[must_use]
pub fn verify_base64(key: &[u8], message: &[u8], signature_base64: &str) -> bool {
    let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(signature_base64.trim())
    else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.verify_slice(&signature).is_ok()
}

/// Whether two tokens (verify tokens, secret tokens) are equal, compared in constant time of
/// their contents by comparing their HMACs.
#[must_use]
pub fn tokens_match(given: &str, expected: &str) -> bool {
    const KEY: &[u8] = b"inbox token comparison";
    let expected_mac = hmac_sha256_hex(KEY, expected.as_bytes());
    verify_hex(KEY, given.as_bytes(), &expected_mac)
}

/// The header carrying the timestamp of the inbox's own signature scheme.
pub const TIMESTAMP_HEADER: &str = "x-inbox-timestamp";
/// The header carrying the signature of the inbox's own scheme.
pub const SIGNATURE_HEADER: &str = "x-inbox-signature";
/// How far a signature's timestamp may be from now, either way (S7: a replay is refused).
pub const MAX_SKEW_SECS: i64 = 300;

/// The signature header's value for `body` signed at `timestamp` (Unix seconds): `sha256=`
/// and the hex HMAC-SHA256 of `"{timestamp}.{body}"` under `secret`.
#[must_use]
pub fn sign_timestamped(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hmac_sha256_hex(secret.as_bytes(), &timestamped(timestamp, body))
    )
}

fn timestamped(timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    signed
}

/// A4, S7: checks a request signed with the inbox's timestamped scheme under `secret`.
///
/// # Errors
/// [`WebhookError::Unauthorized`] naming what is missing, stale or wrong.
pub fn verify_timestamped(
    secret: &str,
    request: &WebhookRequest,
    now: Timestamp,
) -> Result<(), WebhookError> {
    let unauthorized = |why: &str| WebhookError::Unauthorized(why.to_owned());
    let timestamp: i64 = request
        .header(TIMESTAMP_HEADER)
        .ok_or_else(|| unauthorized("the X-Inbox-Timestamp header is missing"))?
        .trim()
        .parse()
        .map_err(|_| unauthorized("X-Inbox-Timestamp is not a number of seconds"))?;
    if (now.timestamp() - timestamp).abs() > MAX_SKEW_SECS {
        return Err(unauthorized(
            "X-Inbox-Timestamp is more than 5 minutes away from now (a replay, or a wrong clock)",
        ));
    }
    let hex = request
        .header(SIGNATURE_HEADER)
        .ok_or_else(|| unauthorized("the X-Inbox-Signature header is missing"))?
        .trim()
        .strip_prefix("sha256=")
        .ok_or_else(|| unauthorized("X-Inbox-Signature does not start with sha256="))?;
    if verify_hex(
        secret.as_bytes(),
        &timestamped(timestamp, &request.body),
        hex,
    ) {
        Ok(())
    } else {
        Err(unauthorized("X-Inbox-Signature does not match the body"))
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231, test case 2.
    const KEY: &[u8] = b"Jefe";
    const DATA: &[u8] = b"what do ya want for nothing?";
    const MAC: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

    #[test]
    fn a4_rfc_4231_vector_in_hex_and_base64() {
        assert_eq!(hmac_sha256_hex(KEY, DATA), MAC);
        assert!(verify_hex(KEY, DATA, MAC));
        assert!(verify_hex(KEY, DATA, &MAC.to_uppercase()));
        assert!(verify_base64(KEY, DATA, &hmac_sha256_base64(KEY, DATA)));
    }

    #[test]
    fn a4_wrong_or_malformed_signatures_are_refused() {
        let mut wrong = MAC.to_owned();
        wrong.replace_range(0..1, "6");
        assert!(!verify_hex(KEY, DATA, &wrong));
        assert!(!verify_hex(KEY, DATA, "not hex"));
        assert!(!verify_hex(KEY, DATA, &MAC[..10]));
        assert!(!verify_hex(KEY, b"what do ya want for nothing!", MAC));
        assert!(!verify_base64(KEY, DATA, "%%%"));
    }

    #[test]
    fn a4_tokens_match_only_when_equal() {
        assert!(tokens_match("verify-me", "verify-me"));
        assert!(!tokens_match("verify-me", "verify-mf"));
        assert!(!tokens_match("", "verify-me"));
    }

    #[test]
    fn n5_the_timestamped_signature_matches_a_vector_computed_elsewhere() {
        // HMAC-SHA256 under "key" of "1700000000.{}", computed with Python's hmac module.
        assert_eq!(
            sign_timestamped("key", 1_700_000_000, b"{}"),
            "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
    }

    #[test]
    fn s7_the_timestamped_scheme_refuses_stale_missing_and_wrong_signatures() {
        let now = chrono::DateTime::from_timestamp(1_000_000, 0).expect("a time");
        let body = b"{}".to_vec();
        let request = |timestamp: i64, signature: Option<String>| WebhookRequest {
            method: "POST".into(),
            headers: std::iter::once((TIMESTAMP_HEADER.to_owned(), timestamp.to_string()))
                .chain(signature.map(|s| (SIGNATURE_HEADER.to_owned(), s)))
                .collect(),
            body: body.clone(),
            ..WebhookRequest::default()
        };
        let fresh = request(
            1_000_000,
            Some(sign_timestamped("secret", 1_000_000, &body)),
        );
        assert!(verify_timestamped("secret", &fresh, now).is_ok());
        assert!(verify_timestamped("other", &fresh, now).is_err());
        let stale = 1_000_000 - MAX_SKEW_SECS - 1;
        let old = request(stale, Some(sign_timestamped("secret", stale, &body)));
        assert!(verify_timestamped("secret", &old, now).is_err());
        assert!(verify_timestamped("secret", &request(1_000_000, None), now).is_err());
    }
}
