//! The durable outbound queue (H3, M6) end to end on both stores, against a local server
//! standing for the customer's endpoint of the generic API channel: transient failures are
//! retried with backoff (honouring `Retry-After`) then succeed; permanent ones fail the message
//! with the provider's reason; two server processes on one PostgreSQL never send one message
//! twice (SQLite is single-process by design); a restart mid-queue (a worker that died holding
//! a lease) loses nothing and sends nothing twice.

use std::collections::BTreeSet;

use chrono::Duration;
use conversation_core::channel::ChannelKind;
use conversation_core::entities::Inbox;
use conversation_core::ids::ConversationId;
use conversation_core::ports::OutboxKind;
use inbox_tests::{Backend, TestServer, e2e_manual, spawn_manual};
use reqwest::StatusCode;
use serde_json::{Value, json};

mod endpoint;
use endpoint::*;

/// An API inbox connected to the endpoint, with a conversation of contact `c-1` in it.
async fn connected(server: &TestServer, endpoint: &Endpoint) -> (Inbox, ConversationId) {
    let inbox = server.inbox(ChannelKind::Api, None).await;
    connect(server, &inbox, &format!("{}/inbox", endpoint.base)).await;
    let (status, body) = webhook(server, &inbox, &message("m-1", "c-1", "hello")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let conversation = server
        .app
        .store()
        .message_by_external_id(inbox.account, inbox.id, "m-1")
        .await
        .unwrap()
        .unwrap()
        .conversation;
    (inbox, conversation)
}

/// The agent's reply; its view.
async fn reply(server: &TestServer, conversation: ConversationId, text: &str) -> Value {
    let (status, reply) = server
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&server.owner),
            &json!({"body": text}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    reply
}

/// A message's delivery, as the API shows it.
async fn delivery(server: &TestServer, conversation: ConversationId, id: &Value) -> Value {
    let (_, listed) = server
        .get(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&server.owner),
        )
        .await;
    listed
        .as_array()
        .unwrap()
        .iter()
        .find(|m| &m["id"] == id)
        .expect("the message")["delivery"]
        .clone()
}

e2e_manual!(
    h3_transient_failures_are_retried_with_backoff_then_the_message_is_sent_once,
    |server: TestServer| async move {
        let endpoint = Endpoint::start().await;
        let (_, conversation) = connected(&server, &endpoint).await;
        endpoint.script([
            Answer::new(503, "down for maintenance"),
            Answer {
                status: 429,
                headers: vec![("retry-after", "30".into())],
                body: "slow down".into(),
            },
        ]);
        let sent = reply(&server, conversation, "one").await;
        assert_eq!(server.run_deliveries().await, 1);
        assert_eq!(endpoint.received_of("POST").len(), 1);
        assert_eq!(
            delivery(&server, conversation, &sent["id"]).await["status"],
            "pending"
        );
        // Not due yet: the first backoff is 1 to 2 s.
        assert_eq!(server.run_deliveries().await, 0);
        server.advance(3);
        assert_eq!(server.run_deliveries().await, 1);
        assert_eq!(endpoint.received_of("POST").len(), 2);
        // 429 with Retry-After: 30: not before 30 s.
        server.advance(20);
        assert_eq!(server.run_deliveries().await, 0);
        assert_eq!(endpoint.received_of("POST").len(), 2);
        server.advance(11);
        assert_eq!(server.run_deliveries().await, 1);
        let posts = endpoint.received_of("POST");
        assert_eq!(posts.len(), 3);
        let keys: BTreeSet<_> = posts
            .iter()
            .map(|p| p.header("idempotency-key").unwrap().to_owned())
            .collect();
        assert_eq!(
            keys.len(),
            1,
            "every attempt carries the message's idempotency key"
        );
        assert_eq!(keys.first().map(String::as_str), sent["id"].as_str());
        let status = delivery(&server, conversation, &sent["id"]).await;
        assert_eq!(status["status"], "sent", "{status}");
        server.advance(3_600);
        assert_eq!(server.run_deliveries().await, 0);
        assert_eq!(endpoint.received_of("POST").len(), 3, "sent once");
    }
);

e2e_manual!(
    h3_m6_a_permanent_failure_fails_the_message_with_the_providers_reason,
    |server: TestServer| async move {
        let endpoint = Endpoint::start().await;
        let (_, conversation) = connected(&server, &endpoint).await;
        endpoint.script([Answer::new(400, "unknown recipient c-1")]);
        let sent = reply(&server, conversation, "one").await;
        assert_eq!(server.run_deliveries().await, 1);
        let status = delivery(&server, conversation, &sent["id"]).await;
        assert_eq!(status["status"], "failed", "{status}");
        assert!(
            status["failure_reason"]
                .as_str()
                .unwrap()
                .contains("unknown recipient c-1"),
            "{status}"
        );
        // An event in the conversation's timeline, and never retried.
        let (_, timeline) = server
            .get(
                &format!("/api/v1/conversations/{conversation}/timeline"),
                Some(&server.owner),
            )
            .await;
        assert!(
            timeline.to_string().contains("unknown recipient c-1"),
            "{timeline}"
        );
        server.advance(3_600);
        assert_eq!(server.run_deliveries().await, 0);
        assert_eq!(endpoint.received_of("POST").len(), 1);

        // Transient failures past the maximum of attempts fail it too.
        let max = server.app.delivery_config().max_attempts;
        endpoint.script((0..max).map(|_| Answer::new(500, "oops")));
        let second = reply(&server, conversation, "two").await;
        for _ in 0..max {
            server.run_deliveries().await;
            server.advance(3_600);
        }
        let status = delivery(&server, conversation, &second["id"]).await;
        assert_eq!(status["status"], "failed", "{status}");
        assert!(
            status["failure_reason"]
                .as_str()
                .unwrap()
                .contains("gave up after"),
            "{status}"
        );
        assert_eq!(endpoint.received_of("POST").len(), 1 + max as usize);
    }
);

/// PostgreSQL only: several processes share PostgreSQL; SQLite is single-process by design.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn h3_two_processes_never_send_one_message_twice() {
    let server = spawn_manual(Backend::Postgres).await;
    let endpoint = Endpoint::start().await;
    let (_, conversation) = connected(&server, &endpoint).await;
    let mut ids = BTreeSet::new();
    for n in 0..20 {
        let sent = reply(&server, conversation, &format!("reply {n}")).await;
        ids.insert(sent["id"].as_str().unwrap().to_owned());
    }
    let other = server.another_process().await;
    let (a, b) = tokio::join!(server.run_deliveries(), other.run_deliveries());
    assert_eq!(a + b, 20, "every row worked once ({a} + {b})");
    let keys: Vec<String> = endpoint
        .received_of("POST")
        .iter()
        .map(|p| p.header("idempotency-key").unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), 20, "one send per message");
    assert_eq!(keys.iter().cloned().collect::<BTreeSet<_>>(), ids);
}

e2e_manual!(
    h3_a_restart_mid_queue_loses_nothing_and_sends_nothing_twice,
    |server: TestServer| async move {
        let endpoint = Endpoint::start().await;
        let (_, conversation) = connected(&server, &endpoint).await;
        for n in 0..4 {
            reply(&server, conversation, &format!("reply {n}")).await;
        }
        // A worker claims two rows and dies holding their leases.
        let account = server.account().await;
        let now = server.app.now();
        let dead = server
            .app
            .store()
            .claim_outbox_of(
                &[OutboxKind::Delivery],
                Some(account),
                now,
                "dead-worker",
                now + Duration::seconds(120),
                2,
            )
            .await
            .unwrap();
        assert_eq!(dead.len(), 2);
        let server = server.restart().await;
        // The other two go out now; the leased two wait for their lease to run out.
        assert_eq!(server.run_deliveries().await, 2);
        assert_eq!(endpoint.received_of("POST").len(), 2);
        server.advance(121);
        assert_eq!(server.run_deliveries().await, 2);
        let keys: BTreeSet<String> = endpoint
            .received_of("POST")
            .iter()
            .map(|p| p.header("idempotency-key").unwrap().to_owned())
            .collect();
        assert_eq!(keys.len(), 4, "each sent once");
        // The dead worker wakes up: its lease is gone, it can neither finish nor retry.
        for work in dead {
            assert!(
                !server
                    .app
                    .store()
                    .finish_outbox(work.item.id, "dead-worker")
                    .await
                    .unwrap()
            );
        }
        server.advance(3_600);
        assert_eq!(server.run_deliveries().await, 0);
        assert_eq!(endpoint.received_of("POST").len(), 4);
    }
);
