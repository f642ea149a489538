//! Twitter/X direct messages end to end on both stores (H1, H3, A4, S7, L2, M6, M8): the CRC
//! challenge answered, signed Account Activity events stored once however often they come, bad
//! signatures refused with 401, agents' replies sent by the delivery queue to a local X API
//! server (the exact request asserted), a 5xx retried, a permanent refusal failing the reply
//! with X's words, and the contact's read receipt moving the reply to `read`.

#[path = "support/channel_e2e.rs"]
mod channel_e2e;
#[path = "../../crates/inbox-channels/tests/common/providers.rs"]
mod providers;

use channel_e2e::*;
use conversation_core::channel::ChannelKind;
use conversation_core::entities::Inbox;
use inbox_channels::signature::hmac_sha256_base64;
use inbox_tests::{TestServer, e2e, e2e_manual};
use providers::{FakeProvider, Reply};
use reqwest::StatusCode;
use serde_json::json;

const CONSUMER_SECRET: &str = "consumer-secret-xyz";
const ACCOUNT: &str = "4337869213";
const CONTACT: &str = "3001969357";
const SEND: &str = "/2/dm_conversations/with/3001969357/messages";

async fn twitter_inbox(server: &TestServer, api: &str) -> Inbox {
    let inbox = server.inbox(ChannelKind::Twitter, None).await;
    connect(
        server,
        &inbox,
        json!({ "user_id": ACCOUNT, "base_url": api }),
        json!({ "consumer_secret": CONSUMER_SECRET, "access_token": "oauth2-user-token" }),
    )
    .await;
    inbox
}

fn dm(id: &str, text: &str) -> Vec<u8> {
    json!({
        "for_user_id": ACCOUNT,
        "direct_message_events": [{
            "type": "message_create", "id": id, "created_timestamp": "1516403560557",
            "message_create": { "target": { "recipient_id": ACCOUNT }, "sender_id": CONTACT, "message_data": { "text": text } }
        }],
        "users": { CONTACT: { "id": CONTACT, "name": "Jordan Brinks", "screen_name": "furiouscamper" } }
    })
    .to_string()
    .into_bytes()
}

fn signature(body: &[u8]) -> Vec<(&'static str, String)> {
    vec![(
        "x-twitter-webhooks-signature",
        format!(
            "sha256={}",
            hmac_sha256_base64(CONSUMER_SECRET.as_bytes(), body)
        ),
    )]
}

fn dm_sent(id: &str) -> Reply {
    Reply::json(
        201,
        json!({ "data": { "dm_conversation_id": format!("{CONTACT}-{ACCOUNT}"), "dm_event_id": id } }),
    )
}

e2e!(
    a4_s7_l2_crc_answered_bad_signatures_refused_events_stored_once,
    |server: TestServer| async move {
        let api = FakeProvider::start().await;
        let inbox = twitter_inbox(&server, &api.base_url).await;
        // The CRC challenge.
        let (status, content_type, body) =
            get_webhook(&server, &inbox, &[("crc_token", "crc-challenge-123")]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}"
        );
        // printf '%s' 'crc-challenge-123' | openssl dgst -sha256 -hmac 'consumer-secret-xyz' -binary | base64
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap(),
            json!({ "response_token": "sha256=mgsoPCTud73CxrpaVh/u07D6Mu0um5w0MYDw1WVbzek=" })
        );
        let body = dm("954491830116155396", "Hello World!");
        let wrong = format!("sha256={}", hmac_sha256_base64(b"another app", &body));
        for headers in [vec![], vec![("x-twitter-webhooks-signature", wrong)]] {
            let (status, problem) = post_webhook(&server, &inbox, &body, &headers).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
            assert_eq!(problem["code"], "invalid_signature");
        }
        assert_eq!(message_count(&server).await, 0, "nothing stored");
        let bodies = (1..=5)
            .map(|n| {
                let body = dm(&format!("95449183011615540{n}"), &format!("text {n}"));
                let headers = signature(&body);
                (body, headers)
            })
            .collect();
        assert_eq!(deliver_concurrently(&server, &inbox, bodies).await, (5, 10));
        let server = server.restart().await;
        let again = dm("954491830116155402", "text 2");
        let (status, accepted) = post_webhook(&server, &inbox, &again, &signature(&again)).await;
        assert_eq!(
            (status, &accepted["duplicates"]),
            (StatusCode::OK, &json!(1)),
            "{accepted}"
        );
        assert_eq!(message_count(&server).await, 5);
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
        assert_eq!(contact.name.as_deref(), Some("Jordan Brinks"));
    }
);

e2e_manual!(
    h3_m6_a_reply_is_retried_after_a_5xx_sent_once_and_read,
    |server: TestServer| async move {
        let api = FakeProvider::start().await;
        api.on("POST", SEND, Reply::json(503, json!({ "title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank", "status": 503 })));
        api.on("POST", SEND, dm_sent("1582838223924506624"));
        let inbox = twitter_inbox(&server, &api.base_url).await;
        let body = dm("954491830116155396", "Hello World!");
        assert_eq!(
            post_webhook(&server, &inbox, &body, &signature(&body))
                .await
                .0,
            StatusCode::OK
        );
        let conversation = conversation_of(&server, &inbox, "954491830116155396").await;
        let sent = reply(&server, conversation, "Hi Jordan, how can we help?").await;
        assert_eq!(server.run_deliveries().await, 1);
        assert_eq!(
            delivery(&server, conversation, &sent["id"]).await["status"],
            "pending"
        );
        server.advance(3);
        assert_eq!(server.run_deliveries().await, 1);
        let requests = api.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[1].path, SEND);
        assert_eq!(
            requests[1].headers["authorization"],
            "Bearer oauth2-user-token"
        );
        assert_eq!(
            requests[1].json(),
            json!({ "text": "Hi Jordan, how can we help?" })
        );
        assert_eq!(
            delivery(&server, conversation, &sent["id"]).await["status"],
            "sent"
        );
        // M6: the contact read it.
        let read = json!({
            "for_user_id": ACCOUNT,
            "direct_message_mark_read_events": [{ "created_timestamp": "1518452444662", "sender_id": CONTACT,
                "target": { "recipient_id": ACCOUNT }, "last_read_event_id": "1582838223924506624" }]
        })
        .to_string()
        .into_bytes();
        let (status, accepted) = post_webhook(&server, &inbox, &read, &signature(&read)).await;
        assert_eq!(
            (status, &accepted["statuses"]),
            (StatusCode::OK, &json!(1)),
            "{accepted}"
        );
        assert_eq!(
            delivery(&server, conversation, &sent["id"]).await["status"],
            "read"
        );
        server.advance(3_600);
        assert_eq!(server.run_deliveries().await, 0);
        assert_eq!(api.requests().len(), 2, "sent once");
    }
);

e2e_manual!(
    h3_m6_a_forbidden_dm_fails_the_reply_with_the_x_reason,
    |server: TestServer| async move {
        let api = FakeProvider::start().await;
        api.on("POST", SEND, Reply::json(403, json!({ "detail": "You are not permitted to send a direct message to this user.", "title": "Forbidden", "type": "https://api.twitter.com/2/problems/dm-permission", "status": 403 })));
        let inbox = twitter_inbox(&server, &api.base_url).await;
        let body = dm("954491830116155396", "Hello");
        post_webhook(&server, &inbox, &body, &signature(&body)).await;
        let conversation = conversation_of(&server, &inbox, "954491830116155396").await;
        let sent = reply(&server, conversation, "Hi").await;
        assert_eq!(server.run_deliveries().await, 1);
        let status = delivery(&server, conversation, &sent["id"]).await;
        assert_eq!(status["status"], "failed", "{status}");
        assert!(
            status["failure_reason"]
                .as_str()
                .unwrap()
                .contains("not permitted to send a direct message"),
            "{status}"
        );
        assert_eq!(api.requests().len(), 1);
    }
);
