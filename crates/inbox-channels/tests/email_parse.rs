//! The email adapter's parsing of real mail formats (fixtures in `fixtures/email/`): ids,
//! contacts, subjects, bodies (text, HTML, quoted replies), attachments, threading (W7), RFC
//! 2047 encoded words, and the bounces and auto-replies that are not conversations.

use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use conversation_core::ports::{
    ChannelAdapter, ChannelConnection, ChannelEvent, InboundChannelMessage, WebhookError,
    WebhookOutcome, WebhookRequest,
};
use inbox_channels::email::EmailAdapter;
use inbox_channels::email::inbound::sign;

const SECRET: &str = "inbound-secret-for-tests";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/email/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 6, 15, 0, 0).unwrap()
}

fn connection() -> ChannelConnection {
    let mut connection = ChannelConnection::default();
    connection
        .secrets
        .insert("inbound_secret".into(), SECRET.into());
    connection
}

fn post(body: Vec<u8>) -> WebhookRequest {
    let timestamp = now().timestamp();
    WebhookRequest {
        method: "POST".into(),
        query: Vec::new(),
        headers: vec![
            ("content-type".into(), "message/rfc822".into()),
            ("x-inbox-timestamp".into(), timestamp.to_string()),
            ("x-inbox-signature".into(), sign(SECRET, timestamp, &body)),
        ],
        body,
    }
}

fn events(name: &str) -> Vec<ChannelEvent> {
    match EmailAdapter::new().receive(&connection(), &post(fixture(name)), now()) {
        Ok(WebhookOutcome::Events(events)) => events,
        other => panic!("{name}: {other:?}"),
    }
}

fn message(name: &str) -> InboundChannelMessage {
    let mut events = events(name);
    assert_eq!(events.len(), 1, "{name}");
    match events.remove(0) {
        ChannelEvent::Message(message) => message,
        other @ (ChannelEvent::Status(_) | ChannelEvent::ReadUpTo(_)) => {
            panic!("{name}: {other:?}")
        }
    }
}

// spec: M8 (the Message-ID is the external id), H1
#[test]
fn a_plain_mail_becomes_one_message_keyed_by_its_message_id() {
    let mail = message("plain.eml");
    assert_eq!(mail.external_id, "CAF1x2y3z4@mail.example.org");
    assert_eq!(mail.from.external_id, "anna.berg@example.org");
    assert_eq!(mail.from.email.as_deref(), Some("anna.berg@example.org"));
    assert_eq!(mail.from.name.as_deref(), Some("Anna Berg"));
    assert_eq!(mail.subject.as_deref(), Some("Where is my order?"));
    assert_eq!(
        mail.body,
        "Hello,\n\nI ordered a lamp last week (order 1042) and have heard nothing since.\nCan you tell me when it ships?\n\nAnna"
    );
    assert!(mail.media.is_empty());
    assert!(mail.thread.is_empty());
    assert!(!mail.reaction);
    assert_eq!(
        mail.sent_at,
        Some(Utc.with_ymd_and_hms(2026, 3, 2, 8, 15, 0).unwrap())
    );
}

// spec: W7 (threading by In-Reply-To and References, nearest first)
#[test]
fn w7_a_reply_carries_its_thread_nearest_first_and_loses_the_marked_quote() {
    let mail = message("reply.eml");
    assert_eq!(mail.external_id, "CAF9q8r7s6@mail.example.org");
    assert_eq!(
        mail.thread,
        [
            "0190f6a2-7c1b-7e55-9d3c-2b8f4a1c0d77@shop.example",
            "CAF1x2y3z4@mail.example.org"
        ]
    );
    assert_eq!(mail.body, "Thank you, the tracking number works.");
    assert_eq!(mail.subject.as_deref(), Some("Re: Where is my order?"));
}

#[test]
fn an_html_only_mail_is_read_as_plain_text() {
    let mail = message("html-only.eml");
    assert_eq!(mail.from.name.as_deref(), Some("Tom Ruiz"));
    assert!(!mail.body.contains('<'), "{:?}", mail.body);
    assert!(!mail.body.contains("color"), "{:?}", mail.body);
    assert!(
        mail.body.contains("I would like a refund for order 2077."),
        "{:?}",
        mail.body
    );
    assert!(mail.body.contains("Tom"), "{:?}", mail.body);
}

#[test]
fn the_plain_text_alternative_is_preferred_to_the_html() {
    let mail = message("alternative.eml");
    assert_eq!(mail.body, "Can I exchange the shoes for size 42?");
    assert!(mail.media.is_empty());
}

// spec: M7 (attachments come with their bytes, to be checked and stored by the app), H2
#[tokio::test]
async fn an_attachment_comes_inline_and_fetch_media_returns_its_bytes() {
    let mail = message("attachment.eml");
    assert_eq!(mail.body, "The vase arrived broken, see the photo.");
    assert_eq!(mail.media.len(), 1);
    let media = &mail.media[0];
    let png = base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
        .unwrap();
    assert_eq!(media.content_type.as_deref(), Some("image/png"));
    assert_eq!(media.file_name.as_deref(), Some("photo.png"));
    assert_eq!(media.inline.as_deref(), Some(png.as_slice()));
    let fetched = EmailAdapter::new()
        .fetch_media(&connection(), media)
        .await
        .unwrap();
    assert_eq!(fetched.bytes, png);
    assert_eq!(fetched.content_type, "image/png");
    assert_eq!(fetched.file_name, "photo.png");
}

#[test]
fn rfc_2047_encoded_subject_and_name_are_decoded() {
    let mail = message("encoded.eml");
    assert_eq!(mail.from.name.as_deref(), Some("André Müller"));
    assert_eq!(
        mail.subject.as_deref(),
        Some("Rücksendung für Bestellung № 31")
    );
    assert_eq!(mail.body, "Grüße, ich möchte die Bestellung zurücksenden.");
}

#[test]
fn auto_replies_bulk_mail_and_bounces_are_not_conversations() {
    for name in ["auto-reply.eml", "bulk.eml", "bounce.eml"] {
        assert_eq!(events(name), [], "{name}");
    }
}

#[test]
fn an_explicit_auto_submitted_no_is_a_conversation() {
    let raw = String::from_utf8(fixture("plain.eml")).unwrap().replace(
        "MIME-Version: 1.0\n",
        "MIME-Version: 1.0\nAuto-Submitted: no\n",
    );
    let events = match EmailAdapter::new().receive(&connection(), &post(raw.into_bytes()), now()) {
        Ok(WebhookOutcome::Events(events)) => events,
        other => panic!("{other:?}"),
    };
    assert_eq!(events.len(), 1);
}

#[test]
fn a_body_that_is_not_a_mail_or_lacks_its_ids_is_malformed() {
    let cases: [(&[u8], &str); 4] = [
        (b"", "not a mail"),
        // mail-parser reads anything as a mail; a header-less one has no Message-ID
        (b"just some words without headers", "no Message-ID"),
        (
            b"From: a@example.org\r\nSubject: hi\r\n\r\nhello\r\n",
            "no Message-ID",
        ),
        (
            b"Message-ID: <x@example.org>\r\nSubject: hi\r\n\r\nhello\r\n",
            "no From",
        ),
    ];
    for (body, expected) in cases {
        match EmailAdapter::new().receive(&connection(), &post(body.to_vec()), now()) {
            Err(WebhookError::Malformed(why)) => {
                assert!(why.contains(expected), "{why} / {expected}");
            }
            other => panic!("{expected}: {other:?}"),
        }
    }
}

#[test]
fn a_post_that_is_not_message_rfc822_is_malformed() {
    let mut request = post(fixture("plain.eml"));
    request.headers[0].1 = "application/json".into();
    assert!(matches!(
        EmailAdapter::new().receive(&connection(), &request, now()),
        Err(WebhookError::Malformed(_))
    ));
    request.headers[0].1 = "Message/RFC822; charset=utf-8".into();
    assert!(
        EmailAdapter::new()
            .receive(&connection(), &request, now())
            .is_ok()
    );
}

// spec: M8 (the same mail posted again parses to the same external id; the app stores it once)
#[test]
fn m8_the_same_mail_posted_twice_has_the_same_external_id() {
    let first = message("reply.eml");
    let second = message("reply.eml");
    assert_eq!(first.external_id, second.external_id);
    assert_eq!(first, second);
}
