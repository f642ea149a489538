//! Helpers of the provider channels' end-to-end tests (Meta, Telegram, Twitter/X): connecting
//! an inbox over the admin API, calling its webhook with raw bodies and headers as a provider
//! does, and reading back what was stored (messages, deliveries, events). The local provider
//! server they send to is `crates/inbox-channels/tests/common/providers.rs`.

#![allow(dead_code, reason = "each test file uses a different part")]

use conversation_core::entities::Inbox;
use conversation_core::ids::ConversationId;
use inbox_tests::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Connects `inbox` over the admin API with these settings and secrets.
pub async fn connect(server: &TestServer, inbox: &Inbox, settings: Value, secrets: Value) {
    let (status, body) = server
        .put(
            &format!("/api/v1/inboxes/{}/connection", inbox.id),
            Some(&server.owner),
            &json!({ "settings": settings, "secrets": secrets }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// POSTs `body` to the inbox's webhook with these headers, as a provider does.
pub async fn post_webhook(
    server: &TestServer,
    inbox: &Inbox,
    body: &[u8],
    headers: &[(&str, String)],
) -> (StatusCode, Value) {
    let mut request = server
        .http
        .post(format!(
            "{}/api/v1/channels/{}/webhook",
            server.base, inbox.id
        ))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// GETs the inbox's webhook with this query (a provider's handshake): status, content type, body.
pub async fn get_webhook(
    server: &TestServer,
    inbox: &Inbox,
    query: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let response = server
        .http
        .get(format!(
            "{}/api/v1/channels/{}/webhook",
            server.base, inbox.id
        ))
        .query(query)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

/// The conversation of the message with this external id.
pub async fn conversation_of(
    server: &TestServer,
    inbox: &Inbox,
    external_id: &str,
) -> ConversationId {
    server
        .app
        .store()
        .message_by_external_id(inbox.account, inbox.id, external_id)
        .await
        .unwrap()
        .expect("the message is stored")
        .conversation
}

/// The messages of a conversation, as the API shows them.
pub async fn messages(server: &TestServer, conversation: ConversationId) -> Vec<Value> {
    let (status, body) = server
        .get(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&server.owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

/// Every message of the account, over the API.
pub async fn message_count(server: &TestServer) -> usize {
    let (status, page) = server
        .get(
            "/api/v1/conversations?filter=all&limit=100",
            Some(&server.owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut total = 0;
    for row in page["rows"].as_array().unwrap() {
        let id: ConversationId = row["id"].as_str().unwrap().parse().unwrap();
        total += messages(server, id).await.len();
    }
    total
}

/// How many events of the account's log have this type.
pub async fn events_of_type(server: &TestServer, kind: &str) -> usize {
    let account = server.account().await;
    let events = server
        .app
        .store()
        .events_after(account, 0, 10_000)
        .await
        .unwrap();
    events
        .iter()
        .filter(|e| {
            serde_json::to_value(&e.event)
                .unwrap()
                .to_string()
                .contains(&format!("\"{kind}\""))
        })
        .count()
}

/// The agent's reply; its view.
pub async fn reply(server: &TestServer, conversation: ConversationId, text: &str) -> Value {
    let (status, reply) = server
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&server.owner),
            &json!({ "body": text }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    reply
}

/// A message's delivery, as the API shows it.
pub async fn delivery(server: &TestServer, conversation: ConversationId, id: &Value) -> Value {
    messages(server, conversation)
        .await
        .iter()
        .find(|m| &m["id"] == id)
        .expect("the message")["delivery"]
        .clone()
}

/// A webhook call: the raw body and its headers.
pub type Call = (Vec<u8>, Vec<(&'static str, String)>);

/// Posts the same webhook `1..=5` times per body, every copy at once; answers the totals of
/// `stored` and `duplicates` (L2).
pub async fn deliver_concurrently(
    server: &TestServer,
    inbox: &Inbox,
    bodies: Vec<Call>,
) -> (u64, u64) {
    let mut calls = Vec::new();
    for (n, (body, headers)) in bodies.into_iter().enumerate() {
        for _ in 0..=n {
            let (http, base, inbox, body, headers) = (
                server.http.clone(),
                server.base.clone(),
                inbox.id,
                body.clone(),
                headers.clone(),
            );
            calls.push(tokio::spawn(async move {
                let mut request = http
                    .post(format!("{base}/api/v1/channels/{inbox}/webhook"))
                    .body(body);
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                let response = request.send().await.unwrap();
                (response.status(), response.json::<Value>().await.unwrap())
            }));
        }
    }
    let (mut stored, mut duplicates) = (0, 0);
    for call in calls {
        let (status, accepted) = call.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{accepted}");
        stored += accepted["stored"].as_u64().unwrap();
        duplicates += accepted["duplicates"].as_u64().unwrap();
    }
    (stored, duplicates)
}
