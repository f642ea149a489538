//! Helpers shared by the routing and timer tests: agents, queues, availability, conversations
//! as the API shows them.

#![allow(dead_code, reason = "each test file uses a different part")]

use conversation_core::entities::Inbox;
use conversation_core::ids::{ConversationId, QueueId};
use conversation_core::ports::{Session, SessionSubject};
use inbox_app::{TokenKind, new_token, token_hash};
use inbox_tests::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

pub use inbox_tests::AGENT_PASSWORD;

/// A JSON string's text.
pub fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// A new agent (with `extra` fields such as capacity), signed in: (id, token).
pub async fn agent(server: &TestServer, extra: Value) -> (Uuid, String) {
    let email = format!("agent-{}@example.test", Uuid::new_v4());
    let mut body = json!({"name": "Agent", "email": email, "password": AGENT_PASSWORD});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let (status, agent) = server
        .post("/api/v1/agents", Some(&server.owner), &body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{agent}");
    (
        Uuid::parse_str(&text(&agent["id"])).expect("an id"),
        server.sign_in(&email, AGENT_PASSWORD).await,
    )
}

/// The agent sets themselves available (R1).
pub async fn available(server: &TestServer, token: &str) {
    set_availability(server, token, "available").await;
}

/// The agent sets their availability.
pub async fn set_availability(server: &TestServer, token: &str, availability: &str) {
    let (status, body) = server
        .put(
            "/api/v1/me/availability",
            Some(token),
            &json!({"availability": availability}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// An agent's availability as the list shows it.
pub async fn availability(server: &TestServer, agent: Uuid) -> String {
    let (status, body) = server
        .get(&format!("/api/v1/agents/{agent}"), Some(&server.owner))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    text(&body["availability"])
}

/// A new queue with this strategy, delivery mode and members (R3).
pub async fn queue(
    server: &TestServer,
    strategy: &str,
    delivery: &str,
    members: &[Uuid],
) -> QueueId {
    let (status, body) = server
        .post(
            "/api/v1/queues",
            Some(&server.owner),
            &json!({"name": format!("Queue {}", Uuid::new_v4()), "strategy": strategy,
                    "delivery": delivery, "members": members}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    QueueId::from_uuid(Uuid::parse_str(&text(&body["id"])).expect("an id"))
}

/// A new contact writes on the inbox; their conversation's id.
pub async fn write(server: &TestServer, inbox: &Inbox) -> ConversationId {
    let contact = server.contact().await;
    server
        .inbound(inbox, contact, "hello", None)
        .await
        .conversation
}

/// The conversation as the owner sees it.
pub async fn conversation(server: &TestServer, id: ConversationId) -> Value {
    let (status, body) = server
        .get(&format!("/api/v1/conversations/{id}"), Some(&server.owner))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The conversation's timeline event types.
pub async fn timeline(server: &TestServer, id: ConversationId) -> Vec<String> {
    let (status, body) = server
        .get(
            &format!("/api/v1/conversations/{id}/timeline"),
            Some(&server.owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array()
        .expect("a list")
        .iter()
        .map(|event| text(&event["event"]["type"]))
        .collect()
}

/// A visitor token for the contact on the inbox (as the widget's session would give).
pub async fn visitor_token(
    server: &TestServer,
    inbox: &Inbox,
    contact: conversation_core::ids::ContactId,
) -> String {
    let token = new_token(TokenKind::VisitorSession).expect("a token");
    let now = server.app.now();
    server
        .app
        .store()
        .create_session(&Session {
            id: Uuid::new_v4(),
            account: inbox.account,
            subject: SessionSubject::Visitor {
                contact,
                inbox: inbox.id,
            },
            token_hash: token_hash(&token),
            created_at: now,
            expires_at: now + chrono::Duration::hours(1),
            revoked_at: None,
        })
        .await
        .expect("session stored");
    token
}
