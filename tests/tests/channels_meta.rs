//! Meta's channels end to end on both stores (H1, H3, A4, S7, L2, M4, M6, M7, M8): a
//! WhatsApp, a Messenger and an Instagram inbox connected over the admin API, signed webhooks
//! from "Meta" stored once however often they come, the verify-token handshake, agents' replies
//! sent by the delivery queue to a local Graph API server (the exact requests asserted), its
//! 5xx retried and its permanent errors failing the message with Meta's reason, and status
//! webhooks moving the replies to `delivered` and `read`.

#[path = "support/channel_e2e.rs"]
mod channel_e2e;
#[path = "../../crates/inbox-channels/tests/common/providers.rs"]
mod providers;

use channel_e2e::*;
use conversation_core::channel::ChannelKind;
use conversation_core::entities::Inbox;
use conversation_core::ports::Clock;
use inbox_channels::signature::hmac_sha256_hex;
use inbox_tests::{TestServer, e2e, e2e_manual};
use providers::{FakeProvider, Reply};
use reqwest::StatusCode;
use serde_json::{Value, json};

const APP_SECRET: &str = "meta-app-secret";
const NUMBER_ID: &str = "106540352242922";
const PAGE_ID: &str = "104857600000001";
const CONTACT: &str = "16505551234";
const WA_SEND: &str = "/v21.0/106540352242922/messages";

/// A PNG's first bytes (what the attachment rules check, M7).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

fn secrets() -> Value {
    json!({ "app_secret": APP_SECRET, "verify_token": "verify-me", "access_token": "EAAG-token" })
}

async fn whatsapp_inbox(server: &TestServer, graph: &str) -> Inbox {
    let inbox = server.inbox(ChannelKind::Whatsapp, None).await;
    connect(
        server,
        &inbox,
        json!({ "phone_number_id": NUMBER_ID, "base_url": graph, "api_version": "v21.0" }),
        secrets(),
    )
    .await;
    inbox
}

fn signature(body: &[u8]) -> Vec<(&'static str, String)> {
    vec![(
        "x-hub-signature-256",
        format!("sha256={}", hmac_sha256_hex(APP_SECRET.as_bytes(), body)),
    )]
}

/// A WhatsApp `messages` change carrying `value`.
fn whatsapp(value: Value) -> Vec<u8> {
    let mut value = value;
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] =
        json!({ "display_phone_number": "15550783881", "phone_number_id": NUMBER_ID });
    json!({ "object": "whatsapp_business_account", "entry": [{ "id": "102290129340398", "changes": [{ "value": value, "field": "messages" }] }] })
        .to_string()
        .into_bytes()
}

fn text_message(id: &str, text: &str) -> Vec<u8> {
    whatsapp(json!({
        "contacts": [{ "profile": { "name": "Sheena Nelson" }, "wa_id": CONTACT }],
        "messages": [{ "from": CONTACT, "id": id, "timestamp": "1749416383", "type": "text", "text": { "body": text } }]
    }))
}

fn status_report(id: &str, status: &str) -> Vec<u8> {
    whatsapp(
        json!({ "statuses": [{ "id": id, "status": status, "timestamp": "1749416501", "recipient_id": CONTACT }] }),
    )
}

async fn signed_post(server: &TestServer, inbox: &Inbox, body: &[u8]) -> (StatusCode, Value) {
    post_webhook(server, inbox, body, &signature(body)).await
}

fn wa_sent(id: &str) -> Reply {
    Reply::json(
        200,
        json!({
            "messaging_product": "whatsapp",
            "contacts": [{ "input": CONTACT, "wa_id": CONTACT }],
            "messages": [{ "id": id }]
        }),
    )
}

e2e!(
    a4_s7_meta_webhooks_without_or_with_a_wrong_signature_get_401_and_store_nothing,
    |server: TestServer| async move {
        let graph = FakeProvider::start().await;
        let inbox = whatsapp_inbox(&server, &graph.base_url).await;
        let body = text_message("wamid.1", "hello");
        let wrong = format!("sha256={}", hmac_sha256_hex(b"another app", &body));
        for headers in [
            vec![],
            vec![("x-hub-signature-256", wrong)],
            vec![("x-hub-signature-256", "sha256=".to_owned())],
        ] {
            let (status, problem) = post_webhook(&server, &inbox, &body, &headers).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
            assert_eq!(problem["code"], "invalid_signature");
        }
        assert_eq!(message_count(&server).await, 0, "nothing stored");
        assert!(
            server
                .app
                .store()
                .contact_by_identity(inbox.account, inbox.id, CONTACT)
                .await
                .unwrap()
                .is_none(),
            "no contact created"
        );
        // The verify-token handshake: the challenge for the right token only.
        let handshake = |token: &'static str| {
            [
                ("hub.mode", "subscribe"),
                ("hub.verify_token", token),
                ("hub.challenge", "1158201444"),
            ]
        };
        let (status, content_type, body) =
            get_webhook(&server, &inbox, &handshake("verify-me")).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "1158201444"));
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        let (status, _, _) = get_webhook(&server, &inbox, &handshake("guess")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // Signed, it is stored.
        let (status, accepted) =
            signed_post(&server, &inbox, &text_message("wamid.1", "hello")).await;
        assert_eq!(
            (status, &accepted["stored"]),
            (StatusCode::OK, &json!(1)),
            "{accepted}"
        );
        assert!(graph.requests().is_empty(), "nothing was sent to Meta");
    }
);

e2e!(
    l2_m8_whatsapp_webhooks_delivered_1_to_5_times_concurrently_are_stored_once,
    |server: TestServer| async move {
        let graph = FakeProvider::start().await;
        let inbox = whatsapp_inbox(&server, &graph.base_url).await;
        let bodies = (1..=5)
            .map(|n| {
                let body = text_message(&format!("wamid.{n}"), &format!("text {n}"));
                let headers = signature(&body);
                (body, headers)
            })
            .collect();
        assert_eq!(deliver_concurrently(&server, &inbox, bodies).await, (5, 10));
        let server = server.restart().await;
        let (status, accepted) =
            signed_post(&server, &inbox, &text_message("wamid.3", "text 3")).await;
        assert_eq!(
            (status, &accepted["duplicates"]),
            (StatusCode::OK, &json!(1)),
            "{accepted}"
        );
        assert_eq!(message_count(&server).await, 5, "one message per wamid");
        assert_eq!(
            events_of_type(&server, "inbound_received").await
                + events_of_type(&server, "started").await,
            5 + 1
        );
        let contact = server
            .app
            .store()
            .contact_by_identity(inbox.account, inbox.id, CONTACT)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (contact.name.as_deref(), contact.phone.as_deref()),
            (Some("Sheena Nelson"), Some("+16505551234"))
        );
    }
);

e2e_manual!(
    h3_m6_a_whatsapp_reply_is_sent_retried_after_a_5xx_and_reported_delivered_then_read,
    |server: TestServer| async move {
        let graph = FakeProvider::start().await;
        graph.on("POST", WA_SEND, Reply::json(503, json!({ "error": { "message": "Service temporarily unavailable", "type": "OAuthException", "code": 133004 } })));
        graph.on("POST", WA_SEND, wa_sent("wamid.reply-1"));
        let inbox = whatsapp_inbox(&server, &graph.base_url).await;
        let (status, _) = signed_post(
            &server,
            &inbox,
            &text_message("wamid.q-1", "Does it come in blue?"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let conversation = conversation_of(&server, &inbox, "wamid.q-1").await;
        let sent = reply(&server, conversation, "Yes, in blue and green.").await;
        assert_eq!(server.run_deliveries().await, 1);
        assert_eq!(
            delivery(&server, conversation, &sent["id"]).await["status"],
            "pending"
        );
        server.advance(3);
        assert_eq!(server.run_deliveries().await, 1);
        let requests = graph.requests();
        assert_eq!(requests.len(), 2, "one failure, one success");
        assert_eq!(requests[1].path, WA_SEND);
        assert_eq!(requests[1].headers["authorization"], "Bearer EAAG-token");
        assert_eq!(
            requests[1].json(),
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": CONTACT,
                "type": "text",
                "text": { "preview_url": false, "body": "Yes, in blue and green." }
            })
        );
        assert_eq!(
            delivery(&server, conversation, &sent["id"]).await["status"],
            "sent"
        );
        // M6: Meta reports on the wamid it gave.
        for report in ["delivered", "read", "delivered"] {
            let (status, accepted) =
                signed_post(&server, &inbox, &status_report("wamid.reply-1", report)).await;
            assert_eq!(status, StatusCode::OK, "{accepted}");
        }
        assert_eq!(
            delivery(&server, conversation, &sent["id"]).await["status"],
            "read"
        );
        server.advance(3_600);
        assert_eq!(server.run_deliveries().await, 0);
        assert_eq!(graph.requests().len(), 2, "sent once");
    }
);

e2e_manual!(
    h3_m6_a_permanent_whatsapp_error_fails_the_reply_with_metas_reason,
    |server: TestServer| async move {
        let graph = FakeProvider::start().await;
        graph.on("POST", WA_SEND, Reply::json(400, json!({ "error": {
            "message": "(#131047) Re-engagement message", "type": "OAuthException", "code": 131047,
            "error_data": { "messaging_product": "whatsapp", "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number." }
        } })));
        let inbox = whatsapp_inbox(&server, &graph.base_url).await;
        signed_post(&server, &inbox, &text_message("wamid.q-1", "hi")).await;
        let conversation = conversation_of(&server, &inbox, "wamid.q-1").await;
        let sent = reply(&server, conversation, "Sorry for the wait").await;
        assert_eq!(server.run_deliveries().await, 1);
        let status = delivery(&server, conversation, &sent["id"]).await;
        assert_eq!(status["status"], "failed", "{status}");
        assert!(
            status["failure_reason"]
                .as_str()
                .unwrap()
                .contains("131047"),
            "{status}"
        );
        server.advance(3_600);
        assert_eq!(server.run_deliveries().await, 0);
        assert_eq!(graph.requests().len(), 1, "never retried");
    }
);

e2e!(
    m7_a_whatsapp_image_is_fetched_through_the_graph_api_and_stored,
    |server: TestServer| async move {
        let graph = FakeProvider::start().await;
        graph.on("GET", "/v21.0/1003383421387256", Reply::json(200, json!({
            "messaging_product": "whatsapp",
            "url": format!("{}/whatsapp_business/attachments/?mid=1003383421387256", graph.base_url),
            "mime_type": "image/png", "file_size": PNG.len(), "id": "1003383421387256"
        })));
        graph.on(
            "GET",
            "/whatsapp_business/attachments/",
            Reply::bytes("image/png", PNG),
        );
        let inbox = whatsapp_inbox(&server, &graph.base_url).await;
        let body = whatsapp(json!({
            "contacts": [{ "profile": { "name": "Sheena Nelson" }, "wa_id": CONTACT }],
            "messages": [{ "from": CONTACT, "id": "wamid.img", "timestamp": "1749416390", "type": "image",
                           "image": { "caption": "This one", "mime_type": "image/png", "id": "1003383421387256" } }]
        }));
        let (status, accepted) = signed_post(&server, &inbox, &body).await;
        assert_eq!(
            (status, &accepted["stored"]),
            (StatusCode::OK, &json!(1)),
            "{accepted}"
        );
        let conversation = conversation_of(&server, &inbox, "wamid.img").await;
        let listed = messages(&server, conversation).await;
        assert_eq!(listed[0]["kind"], "media", "{listed:?}");
        assert_eq!(listed[0]["body"], "This one");
        assert_eq!(listed[0]["attachment"]["content_type"], "image/png");
        assert!(
            graph
                .requests()
                .iter()
                .all(|r| r.headers["authorization"] == "Bearer EAAG-token")
        );
    }
);

e2e_manual!(
    m4_m6_messenger_message_quote_reply_and_delivery,
    |server: TestServer| async move {
        let graph = FakeProvider::start().await;
        graph.on(
            "POST",
            "/v21.0/me/messages",
            Reply::json(
                200,
                json!({ "recipient_id": "7712", "message_id": "m_reply_1" }),
            ),
        );
        let inbox = server.inbox(ChannelKind::Messenger, None).await;
        connect(
            &server,
            &inbox,
            json!({ "page_id": PAGE_ID, "base_url": graph.base_url }),
            secrets(),
        )
        .await;
        let event = |event: Value| {
            json!({ "object": "page", "entry": [{ "id": PAGE_ID, "time": 1, "messaging": [event] }] }).to_string().into_bytes()
        };
        let first = event(
            json!({ "sender": { "id": "7712" }, "recipient": { "id": PAGE_ID }, "timestamp": 1_732_345_200_000_i64,
                                  "message": { "mid": "m_in_1", "text": "Where is my order?" } }),
        );
        assert_eq!(signed_post(&server, &inbox, &first).await.0, StatusCode::OK);
        let conversation = conversation_of(&server, &inbox, "m_in_1").await;
        let sent = reply(&server, conversation, "It left yesterday").await;
        assert_eq!(server.run_deliveries().await, 1);
        assert_eq!(
            graph.requests()[0].json(),
            json!({ "recipient": { "id": "7712" }, "messaging_type": "RESPONSE", "message": { "text": "It left yesterday" } })
        );
        // M6: Messenger's delivery names our mid; M4: the contact quotes our reply.
        let delivered = event(
            json!({ "sender": { "id": "7712" }, "recipient": { "id": PAGE_ID }, "timestamp": 1_732_345_300_000_i64,
                                      "delivery": { "mids": ["m_reply_1"], "watermark": 1_732_345_299_000_i64 } }),
        );
        let (status, accepted) = signed_post(&server, &inbox, &delivered).await;
        assert_eq!(
            (status, &accepted["statuses"]),
            (StatusCode::OK, &json!(1)),
            "{accepted}"
        );
        assert_eq!(
            delivery(&server, conversation, &sent["id"]).await["status"],
            "delivered"
        );
        let quoting = event(
            json!({ "sender": { "id": "7712" }, "recipient": { "id": PAGE_ID }, "timestamp": 1_732_345_400_000_i64,
                                    "message": { "mid": "m_in_2", "text": "Thanks!", "reply_to": { "mid": "m_reply_1" } } }),
        );
        assert_eq!(
            signed_post(&server, &inbox, &quoting).await.0,
            StatusCode::OK
        );
        let listed = messages(&server, conversation).await;
        let thanks = listed.iter().find(|m| m["body"] == "Thanks!").unwrap();
        assert_eq!(thanks["quote"], sent["id"]);
    }
);

e2e_manual!(
    m6_a_messenger_read_watermark_reads_every_reply_sent_up_to_it,
    |server: TestServer| async move {
        let graph = FakeProvider::start().await;
        for id in ["m_reply_1", "m_reply_2"] {
            graph.on(
                "POST",
                "/v21.0/me/messages",
                Reply::json(200, json!({ "recipient_id": "7712", "message_id": id })),
            );
        }
        let inbox = server.inbox(ChannelKind::Messenger, None).await;
        connect(
            &server,
            &inbox,
            json!({ "page_id": PAGE_ID, "base_url": graph.base_url }),
            secrets(),
        )
        .await;
        let post = |event: Value| {
            json!({ "object": "page", "entry": [{ "id": PAGE_ID, "time": 1, "messaging": [event] }] }).to_string().into_bytes()
        };
        let millis = |server: &TestServer| server.manual_clock().now().timestamp_millis();
        let first = post(
            json!({ "sender": { "id": "7712" }, "recipient": { "id": PAGE_ID }, "timestamp": millis(&server),
                   "message": { "mid": "m_in_1", "text": "Hello?" } }),
        );
        assert_eq!(signed_post(&server, &inbox, &first).await.0, StatusCode::OK);
        let conversation = conversation_of(&server, &inbox, "m_in_1").await;
        let early = reply(&server, conversation, "Hi!").await;
        assert_eq!(server.run_deliveries().await, 1);
        server.advance(60);
        let late = reply(&server, conversation, "How can I help?").await;
        assert_eq!(server.run_deliveries().await, 1);
        let read_at = |at: i64| {
            post(
                json!({ "sender": { "id": "7712" }, "recipient": { "id": PAGE_ID }, "timestamp": at,
                       "read": { "watermark": at } }),
            )
        };
        // A watermark between the two replies reads the first only.
        let between = millis(&server) - 30_000;
        let (status, accepted) = signed_post(&server, &inbox, &read_at(between)).await;
        assert_eq!((status, &accepted["statuses"]), (StatusCode::OK, &json!(1)));
        assert_eq!(
            delivery(&server, conversation, &early["id"]).await["status"],
            "read"
        );
        assert_eq!(
            delivery(&server, conversation, &late["id"]).await["status"],
            "sent"
        );
        // The same watermark again, or an older one, moves nothing.
        for at in [between, between - 1_000] {
            let (_, accepted) = signed_post(&server, &inbox, &read_at(at)).await;
            assert_eq!(accepted["statuses"], json!(0), "{accepted}");
        }
        // A watermark after both reads the second; a watermark of an unknown contact nothing.
        server.advance(5);
        let (_, accepted) = signed_post(&server, &inbox, &read_at(millis(&server))).await;
        assert_eq!(accepted["statuses"], json!(1), "{accepted}");
        assert_eq!(
            delivery(&server, conversation, &late["id"]).await["status"],
            "read"
        );
        let stranger = post(
            json!({ "sender": { "id": "9999" }, "recipient": { "id": PAGE_ID }, "timestamp": 1,
                   "read": { "watermark": millis(&server) } }),
        );
        let (status, accepted) = signed_post(&server, &inbox, &stranger).await;
        assert_eq!((status, &accepted["statuses"]), (StatusCode::OK, &json!(0)));
    }
);

e2e_manual!(
    m6_an_instagram_reply_is_sent_and_read,
    |server: TestServer| async move {
        let graph = FakeProvider::start().await;
        graph.on(
            "POST",
            "/v21.0/me/messages",
            Reply::json(
                200,
                json!({ "recipient_id": "6612", "message_id": "aWdf_reply_1" }),
            ),
        );
        let inbox = server.inbox(ChannelKind::Instagram, None).await;
        let account = "17841400000000001";
        connect(
            &server,
            &inbox,
            json!({ "instagram_account_id": account, "base_url": graph.base_url }),
            secrets(),
        )
        .await;
        let event = |event: Value| {
            json!({ "object": "instagram", "entry": [{ "id": account, "time": 1, "messaging": [event] }] }).to_string().into_bytes()
        };
        let first = event(
            json!({ "sender": { "id": "6612" }, "recipient": { "id": account }, "timestamp": 1_732_345_400_000_i64,
                                  "message": { "mid": "aWdf_in_1", "text": "Is this in stock?" } }),
        );
        let (status, accepted) = signed_post(&server, &inbox, &first).await;
        assert_eq!(
            (status, &accepted["stored"]),
            (StatusCode::OK, &json!(1)),
            "{accepted}"
        );
        // A Messenger payload is not taken by an Instagram inbox, even signed.
        let page = json!({ "object": "page", "entry": [] })
            .to_string()
            .into_bytes();
        assert_eq!(
            signed_post(&server, &inbox, &page).await.0,
            StatusCode::BAD_REQUEST
        );
        let conversation = conversation_of(&server, &inbox, "aWdf_in_1").await;
        let sent = reply(&server, conversation, "Yes, size M too").await;
        assert_eq!(server.run_deliveries().await, 1);
        let requests = graph.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].headers["authorization"], "Bearer EAAG-token");
        assert_eq!(
            requests[0].json(),
            json!({ "recipient": { "id": "6612" }, "messaging_type": "RESPONSE", "message": { "text": "Yes, size M too" } })
        );
        assert_eq!(
            delivery(&server, conversation, &sent["id"]).await["status"],
            "sent"
        );
        let read = event(
            json!({ "sender": { "id": "6612" }, "recipient": { "id": account }, "timestamp": 1_732_345_500_000_i64,
                                 "read": { "mid": "aWdf_reply_1" } }),
        );
        let (status, accepted) = signed_post(&server, &inbox, &read).await;
        assert_eq!(
            (status, &accepted["statuses"]),
            (StatusCode::OK, &json!(1)),
            "{accepted}"
        );
        assert_eq!(
            delivery(&server, conversation, &sent["id"]).await["status"],
            "read"
        );
    }
);
