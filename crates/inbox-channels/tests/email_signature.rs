//! A4, S7: the email inbox's inbound posts are accepted only with a valid, fresh signature:
//! `X-Inbox-Signature: sha256=<hex HMAC-SHA256 of "{X-Inbox-Timestamp}.{raw body}">`. The
//! vector below was computed with the documented `openssl` line, so a mail server's pipe script
//! and the adapter agree byte for byte.

use chrono::{DateTime, Duration, TimeZone, Utc};
use conversation_core::ports::{
    ChannelAdapter, ChannelConnection, WebhookError, WebhookOutcome, WebhookRequest,
};
use inbox_channels::email::EmailAdapter;
use inbox_channels::email::inbound::{MAX_SKEW_SECS, sign, verify};

/// `printf 'From: a@example.org\r\nMessage-ID: <v1@example.org>\r\n\r\nhi\r\n' > vec.eml`
const VECTOR_MAIL: &[u8] = b"From: a@example.org\r\nMessage-ID: <v1@example.org>\r\n\r\nhi\r\n";
/// The signing key of the vector.
const VECTOR_KEY: &str = "whsec-test-key";
/// 2026-03-02T08:00:00Z.
const VECTOR_TS: i64 = 1_772_438_400;
/// `( printf '%s.' 1772438400; cat vec.eml ) | openssl dgst -sha256 -hmac whsec-test-key -r`
const VECTOR_HEX: &str = "f85f50e864e786fdbb0c54b9f543ce118dec11d4ab55a4798c30a405bfae4eff";

fn at(offset_secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(VECTOR_TS, 0).unwrap() + Duration::seconds(offset_secs)
}

fn request(timestamp: Option<String>, signature: Option<String>, body: &[u8]) -> WebhookRequest {
    let mut headers = vec![("content-type".to_owned(), "message/rfc822".to_owned())];
    if let Some(timestamp) = timestamp {
        headers.push(("x-inbox-timestamp".to_owned(), timestamp));
    }
    if let Some(signature) = signature {
        headers.push(("x-inbox-signature".to_owned(), signature));
    }
    WebhookRequest {
        method: "POST".to_owned(),
        query: Vec::new(),
        headers,
        body: body.to_vec(),
    }
}

fn signed() -> WebhookRequest {
    request(
        Some(VECTOR_TS.to_string()),
        Some(format!("sha256={VECTOR_HEX}")),
        VECTOR_MAIL,
    )
}

fn connection(secret: Option<&str>) -> ChannelConnection {
    let mut connection = ChannelConnection::default();
    if let Some(secret) = secret {
        connection
            .secrets
            .insert("inbound_secret".into(), secret.into());
    }
    connection
}

fn receive(
    secret: Option<&str>,
    request: &WebhookRequest,
    now: DateTime<Utc>,
) -> Result<WebhookOutcome, WebhookError> {
    EmailAdapter::new().receive(&connection(secret), request, now)
}

#[test]
fn a4_the_openssl_vector_matches_the_adapter() {
    assert_eq!(
        sign(VECTOR_KEY, VECTOR_TS, VECTOR_MAIL),
        format!("sha256={VECTOR_HEX}")
    );
    assert_eq!(verify(VECTOR_KEY, &signed(), at(0)), Ok(()));
    match receive(Some(VECTOR_KEY), &signed(), at(0)) {
        Ok(WebhookOutcome::Events(events)) => assert_eq!(events.len(), 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a4_upper_case_hex_is_accepted() {
    let request = request(
        Some(VECTOR_TS.to_string()),
        Some(format!("sha256={}", VECTOR_HEX.to_uppercase())),
        VECTOR_MAIL,
    );
    assert!(receive(Some(VECTOR_KEY), &request, at(0)).is_ok());
}

#[test]
fn s7_missing_signature_or_timestamp_is_unauthorized() {
    let cases = [
        request(Some(VECTOR_TS.to_string()), None, VECTOR_MAIL),
        request(None, Some(format!("sha256={VECTOR_HEX}")), VECTOR_MAIL),
        request(None, None, VECTOR_MAIL),
    ];
    for request in cases {
        assert!(
            matches!(
                receive(Some(VECTOR_KEY), &request, at(0)),
                Err(WebhookError::Unauthorized(_))
            ),
            "{request:?}"
        );
    }
}

#[test]
fn s7_wrong_signatures_are_unauthorized() {
    let mut flipped = VECTOR_HEX.to_owned();
    flipped.replace_range(0..1, "0");
    let cases = [
        // another key
        (Some("another-key"), signed()),
        // a flipped digit
        (
            Some(VECTOR_KEY),
            request(
                Some(VECTOR_TS.to_string()),
                Some(format!("sha256={flipped}")),
                VECTOR_MAIL,
            ),
        ),
        // the bare hex, without the scheme
        (
            Some(VECTOR_KEY),
            request(
                Some(VECTOR_TS.to_string()),
                Some(VECTOR_HEX.to_owned()),
                VECTOR_MAIL,
            ),
        ),
        // not hex
        (
            Some(VECTOR_KEY),
            request(
                Some(VECTOR_TS.to_string()),
                Some("sha256=zz".to_owned()),
                VECTOR_MAIL,
            ),
        ),
        // a body changed after signing
        (
            Some(VECTOR_KEY),
            request(
                Some(VECTOR_TS.to_string()),
                Some(format!("sha256={VECTOR_HEX}")),
                b"From: a@example.org\r\nMessage-ID: <v1@example.org>\r\n\r\nHI\r\n",
            ),
        ),
        // the signed timestamp moved (the signature covers it)
        (
            Some(VECTOR_KEY),
            request(
                Some((VECTOR_TS + 1).to_string()),
                Some(format!("sha256={VECTOR_HEX}")),
                VECTOR_MAIL,
            ),
        ),
        // a timestamp that is not a number
        (
            Some(VECTOR_KEY),
            request(
                Some("yesterday".to_owned()),
                Some(format!("sha256={VECTOR_HEX}")),
                VECTOR_MAIL,
            ),
        ),
        // an inbox without a secret verifies nothing
        (None, signed()),
    ];
    for (secret, request) in cases {
        assert!(
            matches!(
                receive(secret, &request, at(0)),
                Err(WebhookError::Unauthorized(_))
            ),
            "{secret:?} {request:?}"
        );
    }
}

#[test]
fn s7_a_replayed_post_outside_five_minutes_is_unauthorized() {
    assert!(receive(Some(VECTOR_KEY), &signed(), at(MAX_SKEW_SECS)).is_ok());
    assert!(receive(Some(VECTOR_KEY), &signed(), at(-MAX_SKEW_SECS)).is_ok());
    for offset in [MAX_SKEW_SECS + 1, -(MAX_SKEW_SECS + 1), 86_400] {
        assert!(
            matches!(
                receive(Some(VECTOR_KEY), &signed(), at(offset)),
                Err(WebhookError::Unauthorized(_))
            ),
            "{offset}"
        );
    }
}

#[test]
fn a4_the_signature_is_checked_before_the_body_is_parsed() {
    let garbage = b"not a mail at all";
    let unsigned = request(Some(VECTOR_TS.to_string()), None, garbage);
    assert!(matches!(
        receive(Some(VECTOR_KEY), &unsigned, at(0)),
        Err(WebhookError::Unauthorized(_))
    ));
    let signed = request(
        Some(VECTOR_TS.to_string()),
        Some(sign(VECTOR_KEY, VECTOR_TS, garbage)),
        garbage,
    );
    assert!(matches!(
        receive(Some(VECTOR_KEY), &signed, at(0)),
        Err(WebhookError::Malformed(_))
    ));
}

#[test]
fn a_get_is_not_an_inbound_mail() {
    let mut request = signed();
    request.method = "GET".to_owned();
    assert!(matches!(
        receive(Some(VECTOR_KEY), &request, at(0)),
        Err(WebhookError::Malformed(_))
    ));
}
