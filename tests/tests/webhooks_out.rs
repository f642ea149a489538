//! Outgoing webhooks for integrations (N5, C10, M10, A1) end to end on both stores, with a
//! local receiver: subscriptions (the secret shown once), deliveries of every event type signed
//! with HMAC-SHA256 over `"{timestamp}.{body}"`, a 500 retried with backoff, the delivery log
//! over the API, private notes never sent, and another account seeing nothing.

use std::collections::BTreeMap;

use conversation_core::channel::ChannelKind;
use inbox_tests::{Backend, TestServer, e2e_manual, spawn_manual};
use reqwest::StatusCode;
use serde_json::{Value, json};

mod endpoint;
use endpoint::*;

e2e_manual!(
    n5_c10_m10_a1_events_are_delivered_signed_retried_and_logged,
    |server: TestServer| async move {
        let receiver = Endpoint::start().await;
        let owner = server.owner.clone();
        // Bad subscriptions are refused with stable codes.
        for (body, code) in [
            (
                json!({"url": "ftp://x.test", "events": ["order.created"]}),
                "invalid_value",
            ),
            (
                json!({"url": "http://x.test", "events": ["order.shipped"]}),
                "invalid_value",
            ),
            (
                json!({"url": "http://x.test", "events": []}),
                "missing_field",
            ),
        ] {
            let (status, problem) = server.post("/api/v1/webhooks", Some(&owner), &body).await;
            assert_eq!(
                (status, problem["code"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
                "{body}"
            );
        }
        let (status, created) = server
            .post(
                "/api/v1/webhooks",
                Some(&owner),
                &json!({"url": format!("{}/hooks", receiver.base), "events": [
                    "conversation.created", "conversation.resolved", "message.created", "order.created"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let secret = created["secret"]
            .as_str()
            .expect("the secret, once")
            .to_owned();
        let id = created["id"].as_str().unwrap().to_owned();
        let (_, listed) = server.get("/api/v1/webhooks", Some(&owner)).await;
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert!(!listed.to_string().contains(&secret), "never shown again");

        // What happens in the account: a contact writes, the agent answers, writes a private
        // note, creates an order, resolves.
        let inbox = server.inbox(ChannelKind::WebChat, None).await;
        let contact = server.contact().await;
        let conversation = server
            .inbound(&inbox, contact, "hello there", None)
            .await
            .conversation;
        let messages = format!("/api/v1/conversations/{conversation}/messages");
        let (status, _) = server
            .post(
                &messages,
                Some(&owner),
                &json!({"body": "Hi! How can I help?"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, _) = server
            .post(
                &messages,
                Some(&owner),
                &json!({"kind": "note", "body": "private: VIP customer"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, order) = server
            .post(
                &format!("/api/v1/conversations/{conversation}/orders"),
                Some(&owner),
                &json!({"items": [{"name": "Router", "quantity": 1, "unit_price_minor": 4999}], "currency": "eur"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{order}");
        let (status, _) = server
            .post(
                &format!("/api/v1/conversations/{conversation}/resolve"),
                Some(&owner),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);

        // The receiver fails the first post once.
        receiver.script([Answer::new(500, "try later")]);
        server.run_webhooks().await;
        let first = receiver.received_of("POST");
        assert!(!first.is_empty());
        server.advance(3_600);
        server.run_webhooks().await;
        let posts = receiver.received_of("POST");
        assert_eq!(posts.len(), first.len() + 1, "the failed one retried once");
        for post in &posts {
            assert!(
                post.signed_with(&secret),
                "N5: signed with the subscription's secret"
            );
            assert_eq!(post.path, "/hooks");
            assert!(
                !String::from_utf8_lossy(&post.body).contains("VIP customer"),
                "M10"
            );
        }
        // By type, each delivery once (the retried one was posted twice, with one key).
        let mut by_type: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut seen = std::collections::BTreeSet::new();
        for post in &posts {
            let body = post.json();
            assert_eq!(post.header("x-inbox-event"), body["type"].as_str());
            if !seen.insert(post.header("idempotency-key").unwrap().to_owned()) {
                continue;
            }
            by_type
                .entry(body["type"].as_str().unwrap().to_owned())
                .or_default()
                .push(body);
        }
        assert_eq!(by_type["conversation.created"].len(), 1);
        assert_eq!(
            by_type["conversation.created"][0]["data"]["conversation"],
            json!(conversation)
        );
        assert_eq!(by_type["order.created"].len(), 1, "C10");
        assert_eq!(by_type["order.created"][0]["data"]["id"], order["id"]);
        assert_eq!(by_type["order.created"][0]["data"]["amount_minor"], 4999);
        assert_eq!(by_type["conversation.resolved"].len(), 1);
        let texts: Vec<&str> = by_type["message.created"]
            .iter()
            .map(|b| b["data"]["body"].as_str().unwrap())
            .collect();
        assert!(
            texts.contains(&"hello there") && texts.contains(&"Hi! How can I help?"),
            "{texts:?}"
        );
        // Each delivery once: the retried one carries the same idempotency key.
        let keys: std::collections::BTreeSet<_> = posts
            .iter()
            .map(|p| p.header("idempotency-key").unwrap().to_owned())
            .collect();
        assert_eq!(keys.len(), posts.len() - 1);

        // Nothing more to do, even after more time.
        server.advance(3_600);
        server.run_webhooks().await;
        assert_eq!(receiver.received_of("POST").len(), posts.len());

        // The delivery log.
        let log_path = format!("/api/v1/webhooks/{id}/deliveries");
        let (status, log) = server.get(&log_path, Some(&owner)).await;
        assert_eq!(status, StatusCode::OK, "{log}");
        let log = log.as_array().unwrap();
        assert_eq!(log.len(), posts.len() - 1);
        assert!(log.iter().all(|d| d["status"] == "delivered"), "{log:?}");
        let retried: Vec<&Value> = log.iter().filter(|d| d["attempts"] == 2).collect();
        assert_eq!(retried.len(), 1, "{log:?}");
        let attempts = retried[0]["attempt_log"].as_array().unwrap();
        assert_eq!(attempts[0]["status_code"], 500);
        assert!(attempts[0]["error"].as_str().unwrap().contains("500"));
        assert_eq!(attempts[1]["status_code"], 200);
        assert_eq!(retried[0]["last_status_code"], 200);
        assert!(retried[0]["delivered_at"].is_string());

        // A2: agents may not; A1: another account sees nothing and changes nothing.
        let (_, agent) = server.new_agent("Ann").await;
        assert_eq!(
            server.get("/api/v1/webhooks", Some(&agent)).await.0,
            StatusCode::FORBIDDEN
        );
        let stranger = server.stranger().await;
        let (status, theirs) = server.get("/api/v1/webhooks", Some(&stranger)).await;
        assert_eq!((status, theirs), (StatusCode::OK, json!([])));
        assert_eq!(
            server.get(&log_path, Some(&stranger)).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            server
                .delete(&format!("/api/v1/webhooks/{id}"), Some(&stranger))
                .await
                .0,
            StatusCode::NOT_FOUND
        );

        // Deleted: nothing more is sent to it.
        assert_eq!(
            server
                .delete(&format!("/api/v1/webhooks/{id}"), Some(&owner))
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        let (status, _) = server
            .post(&messages, Some(&owner), &json!({"body": "one more"}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        server.run_webhooks().await;
        assert_eq!(receiver.received_of("POST").len(), posts.len());
    }
);

e2e_manual!(
    n5_a_receiver_that_never_answers_2xx_fails_the_delivery_after_the_maximum_of_attempts,
    |server: TestServer| async move {
        let receiver = Endpoint::start().await;
        let max = server.app.delivery_config().max_attempts;
        receiver.script((0..max).map(|_| Answer::new(503, "down")));
        let (status, created) = server
            .post(
                "/api/v1/webhooks",
                Some(&server.owner),
                &json!({"url": format!("{}/hooks", receiver.base), "events": ["conversation.created"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let inbox = server.inbox(ChannelKind::WebChat, None).await;
        let contact = server.contact().await;
        server.inbound(&inbox, contact, "hello", None).await;
        for _ in 0..max + 2 {
            server.run_webhooks().await;
            server.advance(3_600);
        }
        assert_eq!(receiver.received_of("POST").len(), max as usize);
        let (_, log) = server
            .get(
                &format!(
                    "/api/v1/webhooks/{}/deliveries",
                    created["id"].as_str().unwrap()
                ),
                Some(&server.owner),
            )
            .await;
        assert_eq!(log[0]["status"], "failed", "{log}");
        assert_eq!(log[0]["attempts"], max);
        assert_eq!(
            log[0]["attempt_log"].as_array().unwrap().len(),
            max as usize
        );
    }
);

/// PostgreSQL only: several processes share PostgreSQL; SQLite is single-process by design.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn n5_two_processes_fan_out_and_send_each_event_once() {
    let server = spawn_manual(Backend::Postgres).await;
    let receiver = Endpoint::start().await;
    let (status, created) = server
            .post(
                "/api/v1/webhooks",
                Some(&server.owner),
                &json!({"url": format!("{}/hooks", receiver.base), "events": ["conversation.created", "message.created"]}),
            )
            .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let inbox = server.inbox(ChannelKind::WebChat, None).await;
    for n in 0..6 {
        let contact = server.contact().await;
        server
            .inbound(&inbox, contact, &format!("hello {n}"), None)
            .await;
    }
    let other = server.another_process().await;
    let (a, b) = tokio::join!(server.run_webhooks(), other.run_webhooks());
    assert_eq!(
        a + b,
        12,
        "6 conversations and 6 messages, each row worked once"
    );
    let keys: Vec<String> = receiver
        .received_of("POST")
        .iter()
        .map(|p| p.header("idempotency-key").unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), 12);
    assert_eq!(
        keys.iter().collect::<std::collections::BTreeSet<_>>().len(),
        12,
        "each once"
    );
    let events: std::collections::BTreeSet<String> = receiver
        .received_of("POST")
        .iter()
        .map(|p| p.json()["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(events.len(), 12, "each event once");
}
