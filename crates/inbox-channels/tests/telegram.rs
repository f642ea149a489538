//! Telegram (A4, S7, H2, H3, M4, M5, M7, M8): the secret-token header checked before parsing,
//! each update fixture parsed to the expected events with `"{chat_id}:{message_id}"` ids, and
//! `sendMessage`, `sendPhoto`/`sendDocument`, `deleteMessage` and `getFile` over real HTTP
//! against a local Bot API server, with its 429 `retry_after` and permanent errors.

#[path = "common/providers.rs"]
mod providers;

use std::collections::BTreeMap;

use conversation_core::Timestamp;
use conversation_core::entities::ChannelIdentity;
use conversation_core::ids::{ConversationId, InboxId, MessageId};
use conversation_core::ports::{
    ChannelAdapter, ChannelConnection, ChannelEvent, DeliveryError, InboundChannelMessage,
    MediaReference, OutboundContent, OutboundDelivery, WebhookError, WebhookOutcome,
    WebhookRequest,
};
use inbox_channels::telegram::TelegramAdapter;
use providers::{FakeProvider, Reply};
use serde_json::json;

const TOKEN: &str = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const SECRET: &str = "tg_Secret-123";

fn connection(base_url: &str) -> ChannelConnection {
    ChannelConnection {
        settings: BTreeMap::from([("base_url".to_owned(), base_url.to_owned())]),
        secrets: BTreeMap::from([
            ("bot_token".to_owned(), TOKEN.to_owned()),
            ("secret_token".to_owned(), SECRET.to_owned()),
        ]),
    }
}

fn adapter() -> TelegramAdapter {
    TelegramAdapter::new(reqwest::Client::new())
}

fn update(body: &[u8], secret: Option<&str>) -> WebhookRequest {
    WebhookRequest {
        method: "POST".to_owned(),
        query: Vec::new(),
        headers: secret
            .map(|s| vec![("x-telegram-bot-api-secret-token".to_owned(), s.to_owned())])
            .unwrap_or_default(),
        body: body.to_vec(),
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/telegram/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn now() -> Timestamp {
    chrono::DateTime::from_timestamp(1_750_000_000, 0).unwrap()
}

fn only_message(name: &str) -> InboundChannelMessage {
    let outcome = adapter()
        .receive(
            &connection("http://unused"),
            &update(&fixture(name), Some(SECRET)),
            now(),
        )
        .unwrap();
    match outcome {
        WebhookOutcome::Events(mut events) if events.len() == 1 => match events.remove(0) {
            ChannelEvent::Message(message) => message,
            other => panic!("expected a message, got {other:?}"),
        },
        other => panic!("expected one event, got {other:?}"),
    }
}

fn delivery(content: OutboundContent, in_reply_to: Option<&str>) -> OutboundDelivery {
    OutboundDelivery {
        message: MessageId::from_u128(1),
        conversation: ConversationId::from_u128(2),
        inbox: InboxId::from_u128(3),
        to: ChannelIdentity {
            inbox: InboxId::from_u128(3),
            external_id: "1111111".to_owned(),
        },
        content,
        in_reply_to: in_reply_to.map(str::to_owned),
        subject: None,
    }
}

fn sent(message_id: i64) -> Reply {
    Reply::json(
        200,
        json!({ "ok": true, "result": {
        "message_id": message_id,
        "from": { "id": 7_000_000_001_i64, "is_bot": true, "first_name": "Support" },
        "chat": { "id": 1_111_111, "first_name": "Ana", "type": "private" },
        "date": 1_732_345_600,
        "text": "sent"
    } }),
    )
}

#[test]
fn s7_missing_or_wrong_secret_token_is_unauthorized() {
    let body = fixture("message_text.json");
    let connection = connection("http://unused");
    for secret in [
        None,
        Some("tg_Secret-124"),
        Some(""),
        Some("tg_Secret-123 "),
    ] {
        assert!(
            matches!(
                adapter().receive(&connection, &update(&body, secret), now()),
                Err(WebhookError::Unauthorized(_))
            ),
            "{secret:?}"
        );
    }
    // Unauthorized before parsing: garbage with a wrong token is not "malformed".
    assert!(matches!(
        adapter().receive(&connection, &update(b"garbage", Some("wrong")), now()),
        Err(WebhookError::Unauthorized(_))
    ));
    assert!(matches!(
        adapter().receive(&connection, &update(b"garbage", Some(SECRET)), now()),
        Err(WebhookError::Malformed(_))
    ));
}

#[test]
fn m4_text_message_with_a_quoted_reply() {
    let message = only_message("message_text.json");
    assert_eq!(message.external_id, "1111111:1365");
    assert_eq!(message.from.external_id, "1111111");
    assert_eq!(message.from.name.as_deref(), Some("Ana Lima"));
    assert_eq!(message.body, "Hi, where is my parcel?");
    assert_eq!(message.quoted_external_id.as_deref(), Some("1111111:1360"));
    assert_eq!(
        message.sent_at,
        chrono::DateTime::from_timestamp(1_732_345_200, 0)
    );
}

#[test]
fn m7_photo_keeps_the_largest_size_and_the_caption_document_its_name() {
    let photo = only_message("message_photo.json");
    assert_eq!(photo.body, "The box arrived like this");
    assert_eq!(photo.media.len(), 1);
    assert_eq!(photo.media[0].locator, "AgACAgQAAxkBAAIBlarge");
    assert_eq!(photo.media[0].content_type.as_deref(), Some("image/jpeg"));
    let document = only_message("message_document.json");
    assert_eq!(document.media[0].file_name.as_deref(), Some("invoice.pdf"));
    assert_eq!(
        document.media[0].content_type.as_deref(),
        Some("application/pdf")
    );
}

#[test]
fn m8_an_edit_is_a_new_message_quoting_the_original_and_a_reaction_reacts() {
    let edit = only_message("edited_message.json");
    assert_eq!(edit.external_id, "1111111:1365:edit:1732345400");
    assert_eq!(edit.quoted_external_id.as_deref(), Some("1111111:1365"));
    assert_eq!(edit.body, "Hi, where is my parcel? Order 42");
    let reaction = only_message("message_reaction.json");
    assert!(reaction.reaction);
    assert_eq!(reaction.body, "\u{1f44d}");
    assert_eq!(reaction.external_id, "1111111:1368:reaction:10000005");
    assert_eq!(reaction.quoted_external_id.as_deref(), Some("1111111:1368"));
}

#[test]
fn h2_check_connection_and_capabilities() {
    let adapter = adapter();
    let mut connection = connection("https://api.telegram.org");
    assert_eq!(adapter.check_connection(&connection), Ok(()));
    connection
        .secrets
        .insert("secret_token".to_owned(), "has spaces".to_owned());
    assert!(
        adapter
            .check_connection(&connection)
            .unwrap_err()
            .contains("secrets.secret_token")
    );
    connection.secrets.remove("secret_token");
    assert!(
        adapter
            .check_connection(&connection)
            .unwrap_err()
            .contains("secrets.secret_token")
    );
    connection
        .secrets
        .insert("bot_token".to_owned(), "nocolon".to_owned());
    assert!(
        adapter
            .check_connection(&connection)
            .unwrap_err()
            .contains("secrets.bot_token")
    );
    let caps = adapter.capabilities();
    assert!(caps.unsend && caps.media && !caps.templates && !caps.read_receipts);
    assert_eq!(caps.reply_window, None, "C4: Telegram has no reply window");
}

#[tokio::test]
async fn h3_send_message_without_quoting_the_threading_hint() {
    let server = FakeProvider::start().await;
    let path = format!("/bot{TOKEN}/sendMessage");
    server.on("POST", &path, sent(1400));
    let content = OutboundContent::Text {
        body: "It ships today".to_owned(),
    };
    let receipt = adapter()
        .send(
            &connection(&server.base_url),
            &delivery(content, Some("1111111:1365")),
        )
        .await
        .unwrap();
    assert_eq!(receipt.external_id, "1111111:1400");
    let requests = server.requests();
    assert_eq!(requests[0].path, path);
    assert_eq!(
        requests[0].json(),
        json!({ "chat_id": 1_111_111, "text": "It ships today" })
    );
}

#[tokio::test]
async fn h3_rate_limit_is_transient_with_retry_after_other_errors_permanent() {
    let server = FakeProvider::start().await;
    let path = format!("/bot{TOKEN}/sendMessage");
    server.on("POST", &path, Reply::json(429, json!({ "ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7", "parameters": { "retry_after": 7 } })));
    server.on(
        "POST",
        &path,
        Reply::json(
            502,
            json!({ "ok": false, "error_code": 502, "description": "Bad Gateway" }),
        ),
    );
    server.on("POST", &path, Reply::json(403, json!({ "ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user" })));
    let connection = connection(&server.base_url);
    let delivery = delivery(
        OutboundContent::Text {
            body: "hi".to_owned(),
        },
        None,
    );
    assert_eq!(
        adapter().send(&connection, &delivery).await.unwrap_err(),
        DeliveryError::Transient {
            reason: "Telegram error 429: Too Many Requests: retry after 7".to_owned(),
            retry_after: Some(chrono::Duration::seconds(7)),
        }
    );
    assert!(matches!(
        adapter().send(&connection, &delivery).await,
        Err(DeliveryError::Transient { .. })
    ));
    assert_eq!(
        adapter().send(&connection, &delivery).await.unwrap_err(),
        DeliveryError::Permanent {
            reason: "Telegram error 403: Forbidden: bot was blocked by the user".to_owned()
        }
    );
}

#[tokio::test]
async fn m7_photos_go_by_send_photo_other_files_by_send_document() {
    let server = FakeProvider::start().await;
    server.on("POST", &format!("/bot{TOKEN}/sendPhoto"), sent(1401));
    server.on("POST", &format!("/bot{TOKEN}/sendDocument"), sent(1402));
    let media = |content_type: &str, name: &str| OutboundContent::Media {
        attachment: "att".to_owned(),
        content_type: content_type.to_owned(),
        file_name: name.to_owned(),
        caption: Some("see attached".to_owned()),
        bytes: b"file-bytes".to_vec(),
    };
    let connection = connection(&server.base_url);
    let photo = adapter()
        .send(&connection, &delivery(media("image/jpeg", "a.jpg"), None))
        .await
        .unwrap();
    let document = adapter()
        .send(
            &connection,
            &delivery(media("application/pdf", "b.pdf"), None),
        )
        .await
        .unwrap();
    assert_eq!(
        (photo.external_id.as_str(), document.external_id.as_str()),
        ("1111111:1401", "1111111:1402")
    );
    let requests = server.requests();
    let photo_form = requests[0].text();
    assert!(
        photo_form.contains(r#"name="photo"; filename="a.jpg""#)
            && photo_form.contains("file-bytes")
    );
    assert!(photo_form.contains(r#"name="chat_id""#) && photo_form.contains("1111111"));
    assert!(photo_form.contains(r#"name="caption""#) && photo_form.contains("see attached"));
    assert!(
        requests[1]
            .text()
            .contains(r#"name="document"; filename="b.pdf""#)
    );
    let template = OutboundContent::Template {
        name: "t".to_owned(),
        parameters: BTreeMap::new(),
    };
    assert!(matches!(
        adapter().send(&connection, &delivery(template, None)).await,
        Err(DeliveryError::Permanent { .. })
    ));
}

#[tokio::test]
async fn m5_unsend_deletes_the_message() {
    let server = FakeProvider::start().await;
    let path = format!("/bot{TOKEN}/deleteMessage");
    server.on(
        "POST",
        &path,
        Reply::json(200, json!({ "ok": true, "result": true })),
    );
    let connection = connection(&server.base_url);
    adapter().unsend(&connection, "1111111:1400").await.unwrap();
    assert_eq!(
        server.requests()[0].json(),
        json!({ "chat_id": 1_111_111, "message_id": 1400 })
    );
    server.on("POST", &path, Reply::json(400, json!({ "ok": false, "error_code": 400, "description": "Bad Request: message can't be deleted for everyone" })));
    assert!(matches!(
        adapter().unsend(&connection, "1111111:1399").await,
        Err(DeliveryError::Permanent { .. })
    ));
    assert!(matches!(
        adapter().unsend(&connection, "not-an-id").await,
        Err(DeliveryError::Permanent { .. })
    ));
}

#[tokio::test]
async fn m7_fetch_media_resolves_the_file_path_then_downloads() {
    let server = FakeProvider::start().await;
    server.on("POST", &format!("/bot{TOKEN}/getFile"), Reply::json(200, json!({ "ok": true, "result": {
        "file_id": "BQACAgQAAxkBAAIBdoc", "file_unique_id": "AgADdoc", "file_size": 9, "file_path": "documents/file_7.pdf"
    } })));
    server.on(
        "GET",
        &format!("/file/bot{TOKEN}/documents/file_7.pdf"),
        Reply::bytes("application/octet-stream", b"%PDF-fake"),
    );
    let media = MediaReference {
        locator: "BQACAgQAAxkBAAIBdoc".to_owned(),
        content_type: Some("application/pdf".to_owned()),
        file_name: Some("invoice.pdf".to_owned()),
        inline: None,
    };
    let fetched = adapter()
        .fetch_media(&connection(&server.base_url), &media)
        .await
        .unwrap();
    assert_eq!(fetched.bytes, b"%PDF-fake");
    assert_eq!(fetched.content_type, "application/pdf");
    assert_eq!(fetched.file_name, "invoice.pdf");
    assert_eq!(
        server.requests()[0].json(),
        json!({ "file_id": "BQACAgQAAxkBAAIBdoc" })
    );
}

#[tokio::test]
async fn s9_an_unreachable_bot_api_error_does_not_carry_the_token() {
    let connection = connection("http://127.0.0.1:9");
    let delivery = delivery(
        OutboundContent::Text {
            body: "hi".to_owned(),
        },
        None,
    );
    let error = adapter().send(&connection, &delivery).await.unwrap_err();
    assert!(matches!(error, DeliveryError::Transient { .. }));
    assert!(!error.to_string().contains(TOKEN), "{error}");
}
