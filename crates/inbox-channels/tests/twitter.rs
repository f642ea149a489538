//! Twitter/X direct messages (A4, S7, H2, H3, M5, M6, M7): the CRC answer and the webhook
//! signature against vectors computed with openssl, refusals of missing and wrong signatures,
//! the Account Activity fixtures parsed (own messages skipped, read receipts), and sends over
//! real HTTP against a local X API server with its rate-limit and permanent errors.

#[path = "common/providers.rs"]
mod providers;

use std::collections::BTreeMap;

use conversation_core::Timestamp;
use conversation_core::entities::ChannelIdentity;
use conversation_core::ids::{ConversationId, InboxId, MessageId};
use conversation_core::message::DeliveryStatus;
use conversation_core::ports::{
    ChannelAdapter, ChannelConnection, ChannelEvent, DeliveryError, OutboundContent,
    OutboundDelivery, WebhookError, WebhookOutcome, WebhookRequest,
};
use inbox_channels::signature::hmac_sha256_base64;
use inbox_channels::twitter::TwitterAdapter;
use providers::{FakeProvider, Reply};
use serde_json::json;

const CONSUMER_SECRET: &str = "consumer-secret-xyz";
/// `printf '%s' 'crc-challenge-123' | openssl dgst -sha256 -hmac 'consumer-secret-xyz' -binary | base64`
const CRC_RESPONSE: &str = "sha256=mgsoPCTud73CxrpaVh/u07D6Mu0um5w0MYDw1WVbzek=";
/// `printf '%s' '{"for_user_id":"4337869213"}' | openssl dgst -sha256 -hmac 'consumer-secret-xyz' -binary | base64`
const VECTOR_BODY: &str = r#"{"for_user_id":"4337869213"}"#;
const VECTOR_SIGNATURE: &str = "sha256=7Iu1YF97AqfU2uRQM/DQLCXg7raynr4z1RVKdVFQWMw=";

fn connection(base_url: &str) -> ChannelConnection {
    ChannelConnection {
        settings: BTreeMap::from([
            ("user_id".to_owned(), "4337869213".to_owned()),
            ("base_url".to_owned(), base_url.to_owned()),
        ]),
        secrets: BTreeMap::from([
            ("consumer_secret".to_owned(), CONSUMER_SECRET.to_owned()),
            ("access_token".to_owned(), "oauth2-user-token".to_owned()),
        ]),
    }
}

fn adapter() -> TwitterAdapter {
    TwitterAdapter::new(reqwest::Client::new())
}

fn post(body: &[u8], signature: Option<&str>) -> WebhookRequest {
    WebhookRequest {
        method: "POST".to_owned(),
        query: Vec::new(),
        headers: signature
            .map(|s| vec![("x-twitter-webhooks-signature".to_owned(), s.to_owned())])
            .unwrap_or_default(),
        body: body.to_vec(),
    }
}

fn signed(body: &[u8]) -> WebhookRequest {
    post(
        body,
        Some(&format!(
            "sha256={}",
            hmac_sha256_base64(CONSUMER_SECRET.as_bytes(), body)
        )),
    )
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/twitter/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn now() -> Timestamp {
    chrono::DateTime::from_timestamp(1_750_000_000, 0).unwrap()
}

fn events(request: &WebhookRequest) -> Vec<ChannelEvent> {
    match adapter()
        .receive(&connection("http://unused"), request, now())
        .unwrap()
    {
        WebhookOutcome::Events(events) => events,
        other => panic!("expected events, got {other:?}"),
    }
}

fn delivery(content: OutboundContent) -> OutboundDelivery {
    OutboundDelivery {
        message: MessageId::from_u128(1),
        conversation: ConversationId::from_u128(2),
        inbox: InboxId::from_u128(3),
        to: ChannelIdentity {
            inbox: InboxId::from_u128(3),
            external_id: "3001969357".to_owned(),
        },
        content,
        in_reply_to: None,
        subject: None,
    }
}

#[test]
fn a4_crc_challenge_is_answered_with_the_openssl_vector() {
    let request = WebhookRequest {
        method: "GET".to_owned(),
        query: vec![("crc_token".to_owned(), "crc-challenge-123".to_owned())],
        ..WebhookRequest::default()
    };
    let outcome = adapter()
        .receive(&connection("http://unused"), &request, now())
        .unwrap();
    let WebhookOutcome::Handshake { content_type, body } = outcome else {
        panic!("expected the CRC answer");
    };
    assert_eq!(content_type, "application/json");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body, json!({ "response_token": CRC_RESPONSE }));
}

#[test]
fn a4_signature_vector_is_accepted_s7_missing_or_wrong_refused() {
    assert_eq!(
        events(&post(VECTOR_BODY.as_bytes(), Some(VECTOR_SIGNATURE))),
        Vec::new()
    );
    let body = fixture("direct_message.json");
    let connection = connection("http://unused");
    let wrong_secret = format!("sha256={}", hmac_sha256_base64(b"other", &body));
    let bare = hmac_sha256_base64(CONSUMER_SECRET.as_bytes(), &body);
    for signature in [
        None,
        Some(VECTOR_SIGNATURE),
        Some(wrong_secret.as_str()),
        Some(bare.as_str()),
        Some("sha256=%%%"),
    ] {
        assert!(
            matches!(
                adapter().receive(&connection, &post(&body, signature), now()),
                Err(WebhookError::Unauthorized(_))
            ),
            "{signature:?}"
        );
    }
}

#[test]
fn m8_direct_messages_parsed_own_messages_skipped() {
    let events = events(&signed(&fixture("direct_message.json")));
    assert_eq!(events.len(), 2, "{events:?}");
    let ChannelEvent::Message(first) = &events[0] else {
        panic!()
    };
    assert_eq!(first.external_id, "954491830116155396");
    assert_eq!(first.from.external_id, "3001969357");
    assert_eq!(first.from.name.as_deref(), Some("Jordan Brinks"));
    assert_eq!(first.body, "Hello World!");
    assert_eq!(
        first.sent_at,
        chrono::DateTime::from_timestamp_millis(1_516_403_560_557)
    );
    let ChannelEvent::Message(photo) = &events[1] else {
        panic!()
    };
    assert_eq!(photo.media.len(), 1);
    assert!(
        photo.media[0]
            .locator
            .starts_with("https://ton.twitter.com/")
    );
    assert_eq!(photo.media[0].content_type.as_deref(), Some("image/jpeg"));
}

#[test]
fn m6_mark_read_by_the_contact_is_a_read_status_typing_ignored() {
    let events = events(&signed(&fixture("read_and_typing.json")));
    assert_eq!(events.len(), 1, "{events:?}");
    let ChannelEvent::Status(status) = &events[0] else {
        panic!()
    };
    assert_eq!(status.external_id, "963085315333238788");
    assert_eq!(status.status, DeliveryStatus::Read);
}

#[test]
fn events_of_another_account_are_ignored() {
    let body = br#"{"for_user_id":"1","direct_message_events":[{"type":"message_create","id":"9","created_timestamp":"1","message_create":{"sender_id":"2","message_data":{"text":"x"}}}]}"#;
    assert!(events(&signed(body)).is_empty());
}

#[test]
fn h2_check_connection_and_capabilities() {
    let adapter = adapter();
    let mut connection = connection("https://api.x.com");
    assert_eq!(adapter.check_connection(&connection), Ok(()));
    connection
        .settings
        .insert("user_id".to_owned(), "@handle".to_owned());
    assert!(
        adapter
            .check_connection(&connection)
            .unwrap_err()
            .contains("settings.user_id")
    );
    connection
        .settings
        .insert("user_id".to_owned(), "1".to_owned());
    for key in ["consumer_secret", "access_token"] {
        let mut without = connection.clone();
        without.secrets.remove(key);
        assert!(
            adapter
                .check_connection(&without)
                .unwrap_err()
                .contains(&format!("secrets.{key}"))
        );
    }
    let caps = adapter.capabilities();
    assert!(caps.media && caps.read_receipts && !caps.templates && !caps.unsend);
    assert_eq!(caps.reply_window, Some(chrono::Duration::hours(48)));
}

const SEND: &str = "/2/dm_conversations/with/3001969357/messages";

#[tokio::test]
async fn h3_text_dm_is_sent_with_the_user_token() {
    let server = FakeProvider::start().await;
    server.on("POST", SEND, Reply::json(201, json!({ "data": { "dm_conversation_id": "3001969357-4337869213", "dm_event_id": "1582838223924506624" } })));
    let receipt = adapter()
        .send(
            &connection(&server.base_url),
            &delivery(OutboundContent::Text {
                body: "Hi Jordan".to_owned(),
            }),
        )
        .await
        .unwrap();
    assert_eq!(receipt.external_id, "1582838223924506624");
    let request = &server.requests()[0];
    assert_eq!(request.headers["authorization"], "Bearer oauth2-user-token");
    assert_eq!(request.json(), json!({ "text": "Hi Jordan" }));
}

#[tokio::test]
async fn m7_image_is_uploaded_then_attached() {
    let server = FakeProvider::start().await;
    server.on("POST", "/2/media/upload", Reply::json(200, json!({ "data": { "id": "1880028106020515840", "media_key": "3_1880028106020515840" } })));
    server.on(
        "POST",
        SEND,
        Reply::json(
            201,
            json!({ "data": { "dm_conversation_id": "c", "dm_event_id": "1582838223924506625" } }),
        ),
    );
    let content = OutboundContent::Media {
        attachment: "att".to_owned(),
        content_type: "image/png".to_owned(),
        file_name: "map.png".to_owned(),
        caption: Some("Our store".to_owned()),
        bytes: b"png-bytes".to_vec(),
    };
    adapter()
        .send(&connection(&server.base_url), &delivery(content))
        .await
        .unwrap();
    let requests = server.requests();
    let upload = requests[0].text();
    assert!(upload.contains(r#"name="media_category""#) && upload.contains("dm_image"));
    assert!(upload.contains(r#"name="media"; filename="map.png""#) && upload.contains("png-bytes"));
    assert_eq!(
        requests[1].json(),
        json!({ "text": "Our store", "attachments": [{ "media_id": "1880028106020515840" }] })
    );
    let video = OutboundContent::Media {
        attachment: "att".to_owned(),
        content_type: "video/mp4".to_owned(),
        file_name: "v.mp4".to_owned(),
        caption: None,
        bytes: Vec::new(),
    };
    assert!(matches!(
        adapter()
            .send(&connection(&server.base_url), &delivery(video))
            .await,
        Err(DeliveryError::Permanent { .. })
    ));
    assert_eq!(
        server.requests().len(),
        2,
        "an unsupported file is refused without a call"
    );
}

#[tokio::test]
async fn h3_rate_limit_waits_until_the_reset_5xx_transient_403_permanent() {
    let server = FakeProvider::start().await;
    server.on("POST", SEND, Reply::json(429, json!({ "title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429 }))
        .header("x-rate-limit-reset", "1750000090")
        .header("date", "Sun, 15 Jun 2025 15:06:40 GMT"));
    server.on("POST", SEND, Reply::json(503, json!({ "title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank", "status": 503 })));
    server.on("POST", SEND, Reply::json(403, json!({ "detail": "You are not permitted to send a direct message to this user.", "type": "https://api.twitter.com/2/problems/dm-permission", "title": "Forbidden", "status": 403 })));
    let connection = connection(&server.base_url);
    let delivery = delivery(OutboundContent::Text {
        body: "hi".to_owned(),
    });
    // 1750000000 is Sun, 15 Jun 2025 15:06:40 GMT: the reset is 90 seconds later.
    assert_eq!(
        adapter().send(&connection, &delivery).await.unwrap_err(),
        DeliveryError::Transient {
            reason: "the X API answered 429 Too Many Requests: Too Many Requests".to_owned(),
            retry_after: Some(chrono::Duration::seconds(90)),
        }
    );
    assert!(matches!(
        adapter().send(&connection, &delivery).await,
        Err(DeliveryError::Transient { .. })
    ));
    assert_eq!(
        adapter().send(&connection, &delivery).await.unwrap_err(),
        DeliveryError::Permanent {
            reason: "the X API answered 403 Forbidden: You are not permitted to send a direct message to this user.".to_owned()
        }
    );
}

#[tokio::test]
async fn m5_dms_are_not_unsent_and_templates_refused() {
    let server = FakeProvider::start().await;
    let connection = connection(&server.base_url);
    assert!(matches!(
        adapter().unsend(&connection, "1").await,
        Err(DeliveryError::Permanent { .. })
    ));
    let template = OutboundContent::Template {
        name: "t".to_owned(),
        parameters: BTreeMap::new(),
    };
    assert!(matches!(
        adapter().send(&connection, &delivery(template)).await,
        Err(DeliveryError::Permanent { .. })
    ));
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn m7_media_is_fetched_with_the_user_token() {
    let server = FakeProvider::start().await;
    server.on(
        "GET",
        "/1.1/ton/data/dm/1/2/abc.jpg",
        Reply::bytes("image/jpeg", b"jpg"),
    );
    let media = conversation_core::ports::MediaReference {
        locator: format!("{}/1.1/ton/data/dm/1/2/abc.jpg", server.base_url),
        content_type: Some("image/jpeg".to_owned()),
        file_name: None,
        inline: None,
    };
    let fetched = adapter()
        .fetch_media(&connection(&server.base_url), &media)
        .await
        .unwrap();
    assert_eq!(
        (fetched.bytes.as_slice(), fetched.file_name.as_str()),
        (&b"jpg"[..], "abc.jpg")
    );
    assert_eq!(
        server.requests()[0].headers["authorization"],
        "Bearer oauth2-user-token"
    );
}
