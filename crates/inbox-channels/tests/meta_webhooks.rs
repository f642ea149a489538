//! Meta webhooks (A4, S7, H2, M4, M6, M8): the verify-token handshake, the
//! `X-Hub-Signature-256` check against an independently computed vector, refusals of missing
//! and wrong signatures before any parsing, and each payload fixture of Messenger, Instagram
//! and WhatsApp parsed to the expected events.

use std::collections::BTreeMap;

use conversation_core::Timestamp;
use conversation_core::message::DeliveryStatus;
use conversation_core::ports::{
    ChannelAdapter, ChannelConnection, ChannelEvent, InboundChannelMessage, ReadWatermark,
    StatusReport, WebhookError, WebhookOutcome, WebhookRequest,
};
use inbox_channels::meta::{MessengerAdapter, WhatsAppAdapter};
use inbox_channels::signature::hmac_sha256_hex;

const APP_SECRET: &str = "app-secret-4231";
/// `printf '%s' '{"object":"page","entry":[]}' | openssl dgst -sha256 -hmac 'app-secret-4231'`
const VECTOR_BODY: &str = r#"{"object":"page","entry":[]}"#;
const VECTOR_SIGNATURE: &str = "465d5f818a257385dd3e77d0731cde993c8ca08c4c12cc7615f54c09bcc21793";

fn connection(account_key: &str, account: &str) -> ChannelConnection {
    ChannelConnection {
        settings: BTreeMap::from([(account_key.to_owned(), account.to_owned())]),
        secrets: BTreeMap::from([
            ("app_secret".to_owned(), APP_SECRET.to_owned()),
            ("verify_token".to_owned(), "verify-me".to_owned()),
            ("access_token".to_owned(), "EAAG-token".to_owned()),
        ]),
    }
}

fn messenger() -> (MessengerAdapter, ChannelConnection) {
    (
        MessengerAdapter::messenger(reqwest::Client::new()),
        connection("page_id", "104857600000001"),
    )
}

fn post(body: &[u8], signature: Option<&str>) -> WebhookRequest {
    WebhookRequest {
        method: "POST".to_owned(),
        query: Vec::new(),
        headers: signature
            .map(|s| vec![("x-hub-signature-256".to_owned(), s.to_owned())])
            .unwrap_or_default(),
        body: body.to_vec(),
    }
}

fn signed(body: &[u8]) -> WebhookRequest {
    post(
        body,
        Some(&format!(
            "sha256={}",
            hmac_sha256_hex(APP_SECRET.as_bytes(), body)
        )),
    )
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/meta/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn now() -> Timestamp {
    chrono::DateTime::from_timestamp(1_750_000_000, 0).unwrap()
}

fn events(outcome: WebhookOutcome) -> Vec<ChannelEvent> {
    match outcome {
        WebhookOutcome::Events(events) => events,
        WebhookOutcome::Handshake { .. } => panic!("expected events"),
    }
}

fn message(event: &ChannelEvent) -> &InboundChannelMessage {
    match event {
        ChannelEvent::Message(message) => message,
        ChannelEvent::Status(_) | ChannelEvent::ReadUpTo(_) => {
            panic!("expected a message, got {event:?}")
        }
    }
}

fn status(event: &ChannelEvent) -> &StatusReport {
    match event {
        ChannelEvent::Status(status) => status,
        ChannelEvent::Message(_) | ChannelEvent::ReadUpTo(_) => {
            panic!("expected a status, got {event:?}")
        }
    }
}

#[test]
fn a4_signature_vector_computed_with_openssl_is_accepted() {
    let (adapter, connection) = messenger();
    let request = post(
        VECTOR_BODY.as_bytes(),
        Some(&format!("sha256={VECTOR_SIGNATURE}")),
    );
    let outcome = adapter.receive(&connection, &request, now()).unwrap();
    assert_eq!(outcome, WebhookOutcome::Events(Vec::new()));
    assert_eq!(
        hmac_sha256_hex(APP_SECRET.as_bytes(), VECTOR_BODY.as_bytes()),
        VECTOR_SIGNATURE
    );
}

#[test]
fn s7_missing_wrong_or_foreign_signatures_are_unauthorized_before_parsing() {
    let (adapter, connection) = messenger();
    let body = fixture("messenger_text.json");
    let unauthorized = |request: WebhookRequest| {
        matches!(
            adapter.receive(&connection, &request, now()),
            Err(WebhookError::Unauthorized(_))
        )
    };
    assert!(unauthorized(post(&body, None)), "missing");
    assert!(
        unauthorized(post(&body, Some(&format!("sha256={VECTOR_SIGNATURE}")))),
        "another body's"
    );
    assert!(
        unauthorized(post(
            &body,
            Some(&hmac_sha256_hex(APP_SECRET.as_bytes(), &body))
        )),
        "no sha256= prefix"
    );
    let other_secret = format!("sha256={}", hmac_sha256_hex(b"another app", &body));
    assert!(
        unauthorized(post(&body, Some(&other_secret))),
        "another app's secret"
    );
    // A body that is not even JSON is refused as unauthorized, never parsed, when unsigned.
    assert!(unauthorized(post(b"not json", Some("sha256=00"))));
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let mut request = signed(&body);
    request.body = tampered;
    assert!(unauthorized(request), "a body changed after signing");
}

#[test]
fn a4_a_connection_without_app_secret_refuses_everything() {
    let (adapter, mut connection) = messenger();
    let request = signed(VECTOR_BODY.as_bytes());
    connection.secrets.remove("app_secret");
    assert!(matches!(
        adapter.receive(&connection, &request, now()),
        Err(WebhookError::Unauthorized(_))
    ));
}

#[test]
fn a4_verify_token_handshake_echoes_the_challenge_only_for_the_right_token() {
    let (adapter, connection) = messenger();
    let handshake = |token: &str| WebhookRequest {
        method: "GET".to_owned(),
        query: vec![
            ("hub.mode".to_owned(), "subscribe".to_owned()),
            ("hub.verify_token".to_owned(), token.to_owned()),
            ("hub.challenge".to_owned(), "1158201444".to_owned()),
        ],
        ..WebhookRequest::default()
    };
    assert_eq!(
        adapter
            .receive(&connection, &handshake("verify-me"), now())
            .unwrap(),
        WebhookOutcome::Handshake {
            content_type: "text/plain".to_owned(),
            body: "1158201444".to_owned()
        }
    );
    assert!(matches!(
        adapter.receive(&connection, &handshake("verify-you"), now()),
        Err(WebhookError::Unauthorized(_))
    ));
    assert!(matches!(
        adapter.receive(&connection, &handshake(""), now()),
        Err(WebhookError::Unauthorized(_))
    ));
}

#[test]
fn signed_bodies_of_another_object_or_not_json_are_malformed() {
    let (adapter, connection) = messenger();
    let instagram = br#"{"object":"instagram","entry":[]}"#;
    assert!(matches!(
        adapter.receive(&connection, &signed(instagram), now()),
        Err(WebhookError::Malformed(_))
    ));
    assert!(matches!(
        adapter.receive(&connection, &signed(b"{oops"), now()),
        Err(WebhookError::Malformed(_))
    ));
}

#[test]
fn m4_messenger_text_reply_and_attachment_parsed_and_echoes_skipped() {
    let (adapter, connection) = messenger();
    let events = events(
        adapter
            .receive(&connection, &signed(&fixture("messenger_text.json")), now())
            .unwrap(),
    );
    assert_eq!(
        events.len(),
        2,
        "the echo of our own reply is skipped: {events:?}"
    );
    let text = message(&events[0]);
    assert_eq!(
        text.external_id,
        "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"
    );
    assert_eq!(text.from.external_id, "7712345678901234");
    assert_eq!(text.body, "Hello, my order has not arrived");
    assert_eq!(
        text.quoted_external_id.as_deref(),
        Some("m_previous_page_message")
    );
    assert_eq!(
        text.sent_at,
        chrono::DateTime::from_timestamp_millis(1_732_345_200_000)
    );
    let image = message(&events[1]);
    assert_eq!(image.external_id, "m_attachment_message");
    assert_eq!(image.media.len(), 1);
    assert!(
        image.media[0]
            .locator
            .starts_with("https://lookaside.fbsbx.com/")
    );
    assert_eq!(image.media[0].content_type.as_deref(), Some("image/*"));
}

#[test]
fn m6_messenger_delivery_read_watermark_and_reactions_other_pages_skipped() {
    let (adapter, connection) = messenger();
    let events = events(
        adapter
            .receive(
                &connection,
                &signed(&fixture("messenger_statuses.json")),
                now(),
            )
            .unwrap(),
    );
    // Two delivered mids, the read watermark, one reaction, no unreact, nothing of the other
    // page.
    assert_eq!(events.len(), 4, "{events:?}");
    assert_eq!(status(&events[0]).external_id, "m_our_reply_1");
    assert_eq!(status(&events[0]).status, DeliveryStatus::Delivered);
    assert_eq!(status(&events[1]).external_id, "m_our_reply_2");
    assert_eq!(
        events[2],
        ChannelEvent::ReadUpTo(ReadWatermark {
            contact_external_id: "7712345678901234".into(),
            up_to: chrono::DateTime::from_timestamp_millis(1_732_345_300_500).unwrap(),
        })
    );
    let reaction = message(&events[3]);
    assert!(reaction.reaction);
    assert_eq!(reaction.body, "\u{2764}\u{fe0f}");
    assert_eq!(
        reaction.quoted_external_id.as_deref(),
        Some("m_our_reply_1")
    );
    assert_eq!(
        reaction.external_id,
        "m_our_reply_1#reaction:7712345678901234:1732345302000"
    );
}

#[test]
fn m6_instagram_message_and_read_by_mid() {
    let adapter = MessengerAdapter::instagram(reqwest::Client::new());
    let connection = connection("instagram_account_id", "17841400000000001");
    let events = events(
        adapter
            .receive(
                &connection,
                &signed(&fixture("instagram_messages.json")),
                now(),
            )
            .unwrap(),
    );
    assert_eq!(
        events.len(),
        2,
        "the deleted message is skipped: {events:?}"
    );
    assert_eq!(message(&events[0]).body, "Is this in stock?");
    assert!(message(&events[0]).quoted_external_id.is_some());
    assert_eq!(status(&events[1]).status, DeliveryStatus::Read);
    assert_eq!(
        status(&events[1]).external_id,
        "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAy"
    );
    // The Messenger adapter does not take Instagram's object.
    let (messenger, page) = messenger();
    assert!(matches!(
        messenger.receive(&page, &signed(&fixture("instagram_messages.json")), now()),
        Err(WebhookError::Malformed(_))
    ));
}

#[test]
fn m4_whatsapp_text_image_reply_reaction_and_other_kinds() {
    let adapter = WhatsAppAdapter::new(reqwest::Client::new());
    let connection = connection("phone_number_id", "106540352242922");
    let events = events(
        adapter
            .receive(
                &connection,
                &signed(&fixture("whatsapp_messages.json")),
                now(),
            )
            .unwrap(),
    );
    assert_eq!(events.len(), 4);
    let text = message(&events[0]);
    assert_eq!(
        text.external_id,
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    );
    assert_eq!(text.from.external_id, "16505551234");
    assert_eq!(text.from.name.as_deref(), Some("Sheena Nelson"));
    assert_eq!(text.from.phone.as_deref(), Some("+16505551234"));
    assert_eq!(text.body, "Does it come in another color?");
    assert_eq!(
        text.sent_at,
        chrono::DateTime::from_timestamp(1_749_416_383, 0)
    );
    let image = message(&events[1]);
    assert_eq!(image.body, "This one");
    assert_eq!(
        image.quoted_external_id.as_deref(),
        Some("wamid.our_catalog_message")
    );
    assert_eq!(image.media[0].locator, "1003383421387256");
    assert_eq!(image.media[0].content_type.as_deref(), Some("image/jpeg"));
    let reaction = message(&events[2]);
    assert!(reaction.reaction);
    assert_eq!(reaction.body, "\u{1f44d}");
    assert_eq!(
        reaction.quoted_external_id.as_deref(),
        Some("wamid.our_catalog_message")
    );
    assert_eq!(
        message(&events[3]).body,
        "[a WhatsApp location message this inbox cannot show]"
    );
}

#[test]
fn m6_whatsapp_statuses_delivered_read_failed_with_reason() {
    let adapter = WhatsAppAdapter::new(reqwest::Client::new());
    let connection = connection("phone_number_id", "106540352242922");
    let events = events(
        adapter
            .receive(
                &connection,
                &signed(&fixture("whatsapp_statuses.json")),
                now(),
            )
            .unwrap(),
    );
    let statuses: Vec<_> = events.iter().map(status).collect();
    assert_eq!(
        statuses.len(),
        3,
        "sent is skipped, another number's status too: {statuses:?}"
    );
    assert_eq!(statuses[0].status, DeliveryStatus::Delivered);
    assert_eq!(statuses[1].status, DeliveryStatus::Read);
    assert_eq!(
        statuses[1].at,
        chrono::DateTime::from_timestamp(1_749_416_510, 0)
    );
    assert_eq!(statuses[2].external_id, "wamid.our_reply_2");
    assert_eq!(statuses[2].status, DeliveryStatus::Failed);
    assert_eq!(
        statuses[2].reason.as_deref(),
        Some(
            "131047 Re-engagement message: Message failed to send because more than 24 hours have passed since the customer last replied to this number."
        )
    );
}

#[test]
fn m8_the_same_webhook_parses_to_the_same_external_ids() {
    let (adapter, connection) = messenger();
    let request = signed(&fixture("messenger_statuses.json"));
    let first = adapter.receive(&connection, &request, now()).unwrap();
    let again = adapter.receive(&connection, &request, now()).unwrap();
    assert_eq!(first, again);
}

#[test]
fn h2_check_connection_names_the_missing_keys() {
    let (adapter, mut connection) = messenger();
    assert_eq!(adapter.check_connection(&connection), Ok(()));
    connection
        .settings
        .insert("api_version".to_owned(), "21".to_owned());
    assert!(
        adapter
            .check_connection(&connection)
            .unwrap_err()
            .contains("settings.api_version")
    );
    connection
        .settings
        .insert("api_version".to_owned(), "v22.0".to_owned());
    connection
        .settings
        .insert("base_url".to_owned(), "ftp://x".to_owned());
    assert!(
        adapter
            .check_connection(&connection)
            .unwrap_err()
            .contains("settings.base_url")
    );
    connection.settings.remove("base_url");
    for key in ["app_secret", "verify_token", "access_token"] {
        let mut without = connection.clone();
        without.secrets.remove(key);
        assert!(
            adapter
                .check_connection(&without)
                .unwrap_err()
                .contains(&format!("secrets.{key}"))
        );
    }
    connection.settings.remove("page_id");
    assert!(
        adapter
            .check_connection(&connection)
            .unwrap_err()
            .contains("settings.page_id")
    );
    let whatsapp = WhatsAppAdapter::new(reqwest::Client::new());
    assert!(
        whatsapp
            .check_connection(&connection)
            .unwrap_err()
            .contains("settings.phone_number_id")
    );
    let instagram = MessengerAdapter::instagram(reqwest::Client::new());
    assert!(
        instagram
            .check_connection(&connection)
            .unwrap_err()
            .contains("settings.instagram_account_id")
    );
}

#[test]
fn h2_c4_capabilities_and_windows_of_the_meta_kinds() {
    let (adapter, _) = messenger();
    let caps = adapter.capabilities();
    assert!(caps.media && caps.templates && caps.read_receipts && !caps.unsend);
    assert_eq!(caps.reply_window, Some(chrono::Duration::days(7)));
    let whatsapp = WhatsAppAdapter::new(reqwest::Client::new()).capabilities();
    assert_eq!(whatsapp.reply_window, Some(chrono::Duration::hours(24)));
    assert!(whatsapp.templates);
    let instagram = MessengerAdapter::instagram(reqwest::Client::new()).capabilities();
    assert_eq!(instagram.reply_window, Some(chrono::Duration::hours(72)));
    // H2: Instagram has no templates, and its adapter refuses them: the domain must not offer
    // one outside the window.
    assert!(!instagram.templates && instagram.media && instagram.read_receipts);
}
