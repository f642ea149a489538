//! Meta sends over real HTTP against a local Graph API server (H3, C4, M1, M5, M7): the exact
//! Send API and Cloud API requests for text, templates and media, the `HUMAN_AGENT` retry when
//! Messenger's standard window is over, error answers mapped to transient (rate limits, 5xx,
//! with `Retry-After`) or permanent (131047, 100) with Meta's reason, and media downloads.

#[path = "common/providers.rs"]
mod providers;

use std::collections::BTreeMap;

use conversation_core::entities::ChannelIdentity;
use conversation_core::ids::{ConversationId, InboxId, MessageId};
use conversation_core::ports::{
    ChannelAdapter, ChannelConnection, DeliveryError, MediaReference, OutboundContent,
    OutboundDelivery,
};
use inbox_channels::meta::{MessengerAdapter, WhatsAppAdapter};
use providers::{FakeProvider, Reply};
use serde_json::json;

fn connection(server: &FakeProvider, key: &str, id: &str) -> ChannelConnection {
    ChannelConnection {
        settings: BTreeMap::from([
            (key.to_owned(), id.to_owned()),
            ("base_url".to_owned(), server.base_url.clone()),
            ("api_version".to_owned(), "v21.0".to_owned()),
        ]),
        secrets: BTreeMap::from([
            ("app_secret".to_owned(), "secret".to_owned()),
            ("verify_token".to_owned(), "verify".to_owned()),
            ("access_token".to_owned(), "EAAG-page-token".to_owned()),
        ]),
    }
}

fn delivery(to: &str, content: OutboundContent) -> OutboundDelivery {
    OutboundDelivery {
        message: MessageId::from_u128(1),
        conversation: ConversationId::from_u128(2),
        inbox: InboxId::from_u128(3),
        to: ChannelIdentity {
            inbox: InboxId::from_u128(3),
            external_id: to.to_owned(),
        },
        content,
        in_reply_to: None,
        subject: None,
    }
}

fn text(body: &str) -> OutboundContent {
    OutboundContent::Text {
        body: body.to_owned(),
    }
}

fn graph_error(code: i64, subcode: Option<i64>, message: &str) -> serde_json::Value {
    let mut error = json!({ "message": message, "type": "OAuthException", "code": code, "fbtrace_id": "A1b2C3" });
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    json!({ "error": error })
}

const SEND: &str = "/v21.0/me/messages";

#[tokio::test]
async fn h3_messenger_text_is_sent_as_a_response_with_the_page_token() {
    let server = FakeProvider::start().await;
    server.on(
        "POST",
        SEND,
        Reply::json(
            200,
            json!({ "recipient_id": "7712", "message_id": "m_sent_1" }),
        ),
    );
    let adapter = MessengerAdapter::messenger(reqwest::Client::new());
    let receipt = adapter
        .send(
            &connection(&server, "page_id", "1"),
            &delivery("7712", text("We are on it")),
        )
        .await
        .unwrap();
    assert_eq!(receipt.external_id, "m_sent_1");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, SEND);
    assert_eq!(
        requests[0].headers["authorization"],
        "Bearer EAAG-page-token"
    );
    assert_eq!(
        requests[0].json(),
        json!({ "recipient": { "id": "7712" }, "messaging_type": "RESPONSE", "message": { "text": "We are on it" } })
    );
}

#[tokio::test]
async fn c4_messenger_outside_the_standard_window_retries_once_with_the_human_agent_tag() {
    let server = FakeProvider::start().await;
    server.on(
        "POST",
        SEND,
        Reply::json(
            400,
            graph_error(
                10,
                Some(2_018_278),
                "(#10) This message is sent outside of allowed window.",
            ),
        ),
    );
    server.on(
        "POST",
        SEND,
        Reply::json(
            200,
            json!({ "recipient_id": "7712", "message_id": "m_tagged" }),
        ),
    );
    let adapter = MessengerAdapter::messenger(reqwest::Client::new());
    let receipt = adapter
        .send(
            &connection(&server, "page_id", "1"),
            &delivery("7712", text("Late answer")),
        )
        .await
        .unwrap();
    assert_eq!(receipt.external_id, "m_tagged");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].json()["messaging_type"], "MESSAGE_TAG");
    assert_eq!(requests[1].json()["tag"], "HUMAN_AGENT");
    assert_eq!(requests[1].json()["message"]["text"], "Late answer");
}

#[tokio::test]
async fn c4_messenger_past_the_human_agent_window_fails_for_good() {
    let server = FakeProvider::start().await;
    server.on(
        "POST",
        SEND,
        Reply::json(
            400,
            graph_error(
                10,
                Some(2_018_278),
                "(#10) This message is sent outside of allowed window.",
            ),
        ),
    );
    let adapter = MessengerAdapter::messenger(reqwest::Client::new());
    let error = adapter
        .send(
            &connection(&server, "page_id", "1"),
            &delivery("7712", text("Too late")),
        )
        .await
        .unwrap_err();
    assert_eq!(
        error,
        DeliveryError::Permanent {
            reason: "Graph error 10/2018278 (OAuthException): (#10) This message is sent outside of allowed window.".to_owned()
        }
    );
    assert_eq!(
        server.requests().len(),
        2,
        "one try, one tagged retry, no more"
    );
}

#[tokio::test]
async fn m1_messenger_template_goes_as_a_utility_message() {
    let server = FakeProvider::start().await;
    server.on(
        "POST",
        SEND,
        Reply::json(
            200,
            json!({ "recipient_id": "7712", "message_id": "m_utility" }),
        ),
    );
    let adapter = MessengerAdapter::messenger(reqwest::Client::new());
    let content = OutboundContent::Template {
        name: "order_update".to_owned(),
        parameters: BTreeMap::from([("order".to_owned(), "42".to_owned())]),
    };
    adapter
        .send(
            &connection(&server, "page_id", "1"),
            &delivery("7712", content.clone()),
        )
        .await
        .unwrap();
    assert_eq!(
        server.requests()[0].json(),
        json!({
            "recipient": { "id": "7712" },
            "messaging_type": "UTILITY",
            "message": { "template": {
                "name": "order_update",
                "language": { "code": "en_US" },
                "components": [{ "type": "body", "parameters": [{ "type": "text", "parameter_name": "order", "text": "42" }] }]
            } }
        })
    );
    let instagram = MessengerAdapter::instagram(reqwest::Client::new());
    let refused = instagram
        .send(
            &connection(&server, "instagram_account_id", "1"),
            &delivery("7712", content),
        )
        .await;
    assert!(matches!(refused, Err(DeliveryError::Permanent { .. })));
    assert_eq!(
        server.requests().len(),
        1,
        "Instagram's template is refused without a call"
    );
}

#[tokio::test]
async fn m7_messenger_media_uploads_the_file_then_sends_the_caption() {
    let server = FakeProvider::start().await;
    server.on(
        "POST",
        SEND,
        Reply::json(
            200,
            json!({ "recipient_id": "7712", "message_id": "m_file" }),
        ),
    );
    server.on(
        "POST",
        SEND,
        Reply::json(
            200,
            json!({ "recipient_id": "7712", "message_id": "m_caption" }),
        ),
    );
    let adapter = MessengerAdapter::messenger(reqwest::Client::new());
    let content = OutboundContent::Media {
        attachment: "att_1".to_owned(),
        content_type: "image/png".to_owned(),
        file_name: "label.png".to_owned(),
        caption: Some("Your label".to_owned()),
        bytes: b"\x89PNG fake image bytes".to_vec(),
    };
    let receipt = adapter
        .send(
            &connection(&server, "page_id", "1"),
            &delivery("7712", content),
        )
        .await
        .unwrap();
    assert_eq!(receipt.external_id, "m_file");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[0].headers["content-type"].starts_with("multipart/form-data"));
    let form = requests[0].text();
    assert!(form.contains(r#"name="recipient""#) && form.contains(r#"{"id":"7712"}"#));
    assert!(
        form.contains(r#"{"attachment":{"payload":{"is_reusable":false},"type":"image"}}"#),
        "{form}"
    );
    assert!(form.contains(r#"name="filedata"; filename="label.png""#));
    assert!(form.contains("Content-Type: image/png"));
    assert!(form.contains("PNG fake image bytes"));
    assert_eq!(
        requests[1].json()["message"],
        json!({ "text": "Your label" })
    );
}

#[tokio::test]
async fn h3_graph_rate_limits_and_5xx_are_transient_with_retry_after() {
    let server = FakeProvider::start().await;
    server.on(
        "POST",
        SEND,
        Reply::json(
            429,
            graph_error(4, None, "(#4) Application request limit reached"),
        )
        .header("retry-after", "30"),
    );
    server.on("POST", SEND, Reply::json(500, json!({ "error": { "message": "An unknown error occurred", "type": "OAuthException", "code": 1, "is_transient": true } })));
    server.on(
        "POST",
        SEND,
        Reply::json(
            200,
            json!({ "recipient_id": "7712", "message_id": "m_finally" }),
        ),
    );
    let adapter = MessengerAdapter::messenger(reqwest::Client::new());
    let connection = connection(&server, "page_id", "1");
    let delivery = delivery("7712", text("hi"));
    let send = || adapter.send(&connection, &delivery);
    assert_eq!(
        send().await.unwrap_err(),
        DeliveryError::Transient {
            reason: "Graph error 4 (OAuthException): (#4) Application request limit reached"
                .to_owned(),
            retry_after: Some(chrono::Duration::seconds(30)),
        }
    );
    assert!(matches!(
        send().await,
        Err(DeliveryError::Transient {
            retry_after: None,
            ..
        })
    ));
    assert_eq!(send().await.unwrap().external_id, "m_finally");
}

#[tokio::test]
async fn h3_unreachable_provider_is_transient() {
    let adapter = WhatsAppAdapter::new(reqwest::Client::new());
    let mut connection = ChannelConnection::default();
    connection
        .settings
        .insert("phone_number_id".to_owned(), "1".to_owned());
    connection
        .settings
        .insert("base_url".to_owned(), "http://127.0.0.1:9".to_owned());
    connection
        .secrets
        .insert("access_token".to_owned(), "t".to_owned());
    let error = adapter
        .send(&connection, &delivery("1", text("hi")))
        .await
        .unwrap_err();
    assert!(
        matches!(error, DeliveryError::Transient { .. }),
        "{error:?}"
    );
}

const WA_SEND: &str = "/v21.0/106540352242922/messages";

fn wa_sent(id: &str) -> Reply {
    Reply::json(
        200,
        json!({
            "messaging_product": "whatsapp",
            "contacts": [{ "input": "16505551234", "wa_id": "16505551234" }],
            "messages": [{ "id": id, "message_status": "accepted" }]
        }),
    )
}

#[tokio::test]
async fn h3_whatsapp_text_is_sent_without_quoting_the_threading_hint() {
    let server = FakeProvider::start().await;
    server.on("POST", WA_SEND, wa_sent("wamid.sent_text"));
    let adapter = WhatsAppAdapter::new(reqwest::Client::new());
    let mut delivery = delivery("16505551234", text("Blue and green"));
    delivery.in_reply_to = Some("wamid.their_question".to_owned());
    let receipt = adapter
        .send(
            &connection(&server, "phone_number_id", "106540352242922"),
            &delivery,
        )
        .await
        .unwrap();
    assert_eq!(receipt.external_id, "wamid.sent_text");
    let request = &server.requests()[0];
    assert_eq!(request.headers["authorization"], "Bearer EAAG-page-token");
    assert_eq!(
        request.json(),
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "16505551234",
            "type": "text",
            "text": { "preview_url": false, "body": "Blue and green" }
        })
    );
}

#[tokio::test]
async fn c4_whatsapp_template_with_positional_parameters() {
    let server = FakeProvider::start().await;
    server.on("POST", WA_SEND, wa_sent("wamid.sent_template"));
    let adapter = WhatsAppAdapter::new(reqwest::Client::new());
    let mut connection = connection(&server, "phone_number_id", "106540352242922");
    connection
        .settings
        .insert("template_language".to_owned(), "pt_BR".to_owned());
    let content = OutboundContent::Template {
        name: "follow_up".to_owned(),
        parameters: BTreeMap::from([
            ("1".to_owned(), "Ana".to_owned()),
            ("2".to_owned(), "42".to_owned()),
        ]),
    };
    adapter
        .send(&connection, &delivery("16505551234", content))
        .await
        .unwrap();
    assert_eq!(
        server.requests()[0].json()["template"],
        json!({
            "name": "follow_up",
            "language": { "code": "pt_BR" },
            "components": [{ "type": "body", "parameters": [{ "type": "text", "text": "Ana" }, { "type": "text", "text": "42" }] }]
        })
    );
}

#[tokio::test]
async fn m7_whatsapp_media_is_uploaded_then_sent_by_id() {
    let server = FakeProvider::start().await;
    server.on(
        "POST",
        "/v21.0/106540352242922/media",
        Reply::json(200, json!({ "id": "4490709327384033" })),
    );
    server.on("POST", WA_SEND, wa_sent("wamid.sent_doc"));
    let adapter = WhatsAppAdapter::new(reqwest::Client::new());
    let content = OutboundContent::Media {
        attachment: "att_2".to_owned(),
        content_type: "application/pdf".to_owned(),
        file_name: "invoice.pdf".to_owned(),
        caption: Some("Your invoice".to_owned()),
        bytes: b"%PDF-1.7 fake".to_vec(),
    };
    let receipt = adapter
        .send(
            &connection(&server, "phone_number_id", "106540352242922"),
            &delivery("16505551234", content),
        )
        .await
        .unwrap();
    assert_eq!(receipt.external_id, "wamid.sent_doc");
    let requests = server.requests();
    let upload = requests[0].text();
    assert!(upload.contains(r#"name="messaging_product""#) && upload.contains("whatsapp"));
    assert!(
        upload.contains(r#"name="file"; filename="invoice.pdf""#)
            && upload.contains("%PDF-1.7 fake")
    );
    assert_eq!(
        requests[1].json()["document"],
        json!({ "id": "4490709327384033", "caption": "Your invoice", "filename": "invoice.pdf" })
    );
    assert_eq!(requests[1].json()["type"], "document");
}

#[tokio::test]
async fn h3_whatsapp_permanent_errors_carry_metas_reason() {
    let server = FakeProvider::start().await;
    server.on("POST", WA_SEND, Reply::json(400, json!({ "error": {
        "message": "(#131047) Re-engagement message", "type": "OAuthException", "code": 131047,
        "error_data": { "messaging_product": "whatsapp", "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number." },
        "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"
    } })));
    server.on(
        "POST",
        WA_SEND,
        Reply::json(400, graph_error(100, None, "(#100) Invalid parameter")),
    );
    server.on(
        "POST",
        WA_SEND,
        Reply::json(400, graph_error(130_429, None, "(#130429) Rate limit hit")),
    );
    let adapter = WhatsAppAdapter::new(reqwest::Client::new());
    let connection = connection(&server, "phone_number_id", "106540352242922");
    let error = adapter
        .send(&connection, &delivery("16505551234", text("hello?")))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        DeliveryError::Permanent {
            reason: "Graph error 131047 (OAuthException): (#131047) Re-engagement message: Message failed to send because more than 24 hours have passed since the customer last replied to this number.".to_owned()
        }
    );
    assert!(matches!(
        adapter.send(&connection, &delivery("1", text("x"))).await,
        Err(DeliveryError::Permanent { .. })
    ));
    assert!(matches!(
        adapter.send(&connection, &delivery("1", text("x"))).await,
        Err(DeliveryError::Transient { .. })
    ));
}

#[tokio::test]
async fn m7_whatsapp_media_is_fetched_through_its_url_with_the_token() {
    let server = FakeProvider::start().await;
    server.on("GET", "/v21.0/1003383421387256", Reply::json(200, json!({
        "messaging_product": "whatsapp",
        "url": format!("{}/whatsapp_business/attachments/?mid=1003383421387256&ext=1", server.base_url),
        "mime_type": "image/jpeg", "sha256": "abc", "file_size": 9, "id": "1003383421387256"
    })));
    server.on(
        "GET",
        "/whatsapp_business/attachments/",
        Reply::bytes("image/jpeg", b"jpegbytes"),
    );
    let adapter = WhatsAppAdapter::new(reqwest::Client::new());
    let media = MediaReference {
        locator: "1003383421387256".to_owned(),
        content_type: Some("image/jpeg".to_owned()),
        file_name: None,
        inline: None,
    };
    let fetched = adapter
        .fetch_media(
            &connection(&server, "phone_number_id", "106540352242922"),
            &media,
        )
        .await
        .unwrap();
    assert_eq!(fetched.bytes, b"jpegbytes");
    assert_eq!(fetched.content_type, "image/jpeg");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests
            .iter()
            .all(|r| r.headers["authorization"] == "Bearer EAAG-page-token")
    );
}

#[tokio::test]
async fn m7_messenger_media_is_fetched_from_its_url() {
    let server = FakeProvider::start().await;
    server.on(
        "GET",
        "/cdn/photo.jpg",
        Reply::bytes("image/jpeg", b"photo"),
    );
    let adapter = MessengerAdapter::messenger(reqwest::Client::new());
    let media = MediaReference {
        locator: format!("{}/cdn/photo.jpg?sig=1", server.base_url),
        content_type: Some("image/*".to_owned()),
        file_name: None,
        inline: None,
    };
    let fetched = adapter
        .fetch_media(&connection(&server, "page_id", "1"), &media)
        .await
        .unwrap();
    assert_eq!(
        (
            fetched.bytes.as_slice(),
            fetched.content_type.as_str(),
            fetched.file_name.as_str()
        ),
        (&b"photo"[..], "image/jpeg", "photo.jpg")
    );
    assert!(
        !server.requests()[0].headers.contains_key("authorization"),
        "the page token stays off CDN URLs"
    );
}

#[tokio::test]
async fn m5_meta_channels_cannot_unsend() {
    let server = FakeProvider::start().await;
    let messenger = MessengerAdapter::messenger(reqwest::Client::new());
    let whatsapp = WhatsAppAdapter::new(reqwest::Client::new());
    let connection = connection(&server, "page_id", "1");
    assert!(matches!(
        messenger.unsend(&connection, "m_1").await,
        Err(DeliveryError::Permanent { .. })
    ));
    assert!(matches!(
        whatsapp.unsend(&connection, "wamid.1").await,
        Err(DeliveryError::Permanent { .. })
    ));
    assert!(!messenger.capabilities().unsend && !whatsapp.capabilities().unsend);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn the_shared_client_speaks_https_to_the_real_providers() {
    // Without a TLS back end reqwest refuses an https URL before it opens a connection ("scheme
    // is not http"); with one it connects, and is refused here: nothing listens on port 9.
    let client = inbox_channels::http_client(&inbox_channels::ClientSettings::default());
    let error = client.get("https://127.0.0.1:9/").send().await.unwrap_err();
    let mut source: Option<&dyn std::error::Error> = Some(&error);
    let mut refused = false;
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        source = cause.source();
    }
    assert!(refused, "{error:?}");
}
