//! Several server processes on one PostgreSQL (L4, R2, and timers firing once): two servers,
//! each with its own connection pool, hub and timer worker, on one database and account.
//! PostgreSQL only: SQLite is single-process by design.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use conversation_core::channel::ChannelKind;
use conversation_core::ids::ConversationId;
use inbox_tests::{Backend, TestServer, spawn_manual};
use reqwest::StatusCode;
use serde_json::json;

mod support;
use support::*;

/// Agents of capacity `capacity`, all available, in one queue of this delivery mode; a web
/// inbox routing to it.
async fn team(
    server: &TestServer,
    agents: usize,
    capacity: u32,
    delivery: &str,
) -> (
    Vec<uuid::Uuid>,
    conversation_core::ids::QueueId,
    conversation_core::entities::Inbox,
) {
    let mut ids = Vec::new();
    for _ in 0..agents {
        let (id, token) = agent(server, json!({"capacity": capacity})).await;
        available(server, &token).await;
        ids.push(id);
    }
    let queue = queue(server, "least_loaded", delivery, &ids).await;
    let inbox = server.inbox(ChannelKind::WebChat, Some(queue)).await;
    (ids, queue, inbox)
}

/// `n` visitors write concurrently, alternating between the two servers, over HTTP.
async fn arrive(
    one: &TestServer,
    two: &TestServer,
    inbox: &conversation_core::entities::Inbox,
    n: usize,
) -> Vec<ConversationId> {
    let mut tokens = Vec::new();
    for _ in 0..n {
        let contact = one.contact().await;
        tokens.push((contact, visitor_token(one, inbox, contact).await));
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (contact, token)) in tokens.into_iter().enumerate() {
        let (http, base) = if i % 2 == 0 {
            (one.http.clone(), one.base.clone())
        } else {
            (two.http.clone(), two.base.clone())
        };
        tasks.spawn(async move {
            let response = http
                .post(format!("{base}/api/v1/widget/messages"))
                .bearer_auth(&token)
                .json(&json!({"body": "hello", "client_id": format!("l4-{i}")}))
                .send()
                .await
                .expect("the server answers");
            assert!(response.status().is_success(), "{}", response.status());
            contact
        });
    }
    let mut ids = Vec::new();
    while let Some(contact) = tasks.join_next().await {
        let contact = contact.expect("a visitor");
        let stored = one
            .app
            .store()
            .latest_conversation(inbox.account, inbox.id, contact)
            .await
            .expect("read")
            .expect("a conversation");
        ids.push(stored.value.id);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn l4_r2_two_processes_never_exceed_capacity_the_rest_wait_freed_slots_refill() {
    let one = spawn_manual(Backend::Postgres).await;
    let two = one.another_process().await;
    let account = one.account().await;
    let (agents, queue, inbox) = team(&one, 10, 3, "direct").await;

    // A watcher samples every agent's load from the database throughout.
    let stop = Arc::new(AtomicBool::new(false));
    let highest = Arc::new(AtomicU32::new(0));
    let watcher = {
        let (stop, highest, store) = (stop.clone(), highest.clone(), one.app.store().clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                for candidate in store.candidates(account, queue).await.expect("read") {
                    highest.fetch_max(candidate.load.load(), Ordering::Relaxed);
                }
                tokio::task::yield_now().await;
            }
        })
    };

    let conversations = arrive(&one, &two, &inbox, 100).await;
    let mut assigned = Vec::new();
    let mut waiting = 0;
    for id in &conversations {
        let c = conversation(&one, *id).await;
        match c["assignment"]["type"].as_str() {
            Some("assigned") => assigned.push(*id),
            Some("waiting") => waiting += 1,
            other => panic!("unexpected {other:?}: {c}"),
        }
    }
    // spec: L4, R2: every slot is filled, nobody above capacity, the rest wait.
    assert_eq!((assigned.len(), waiting), (30, 70));
    for candidate in one
        .app
        .store()
        .candidates(account, queue)
        .await
        .expect("read")
    {
        assert_eq!(candidate.load.load(), 3, "{candidate:?}");
    }

    // Freed slots are refilled (R5), through both processes at once.
    let mut resolves = tokio::task::JoinSet::new();
    for (i, id) in assigned.iter().take(6).enumerate() {
        let server = if i % 2 == 0 { &one } else { &two };
        let (http, base, owner) = (
            server.http.clone(),
            server.base.clone(),
            server.owner.clone(),
        );
        let id = *id;
        resolves.spawn(async move {
            let response = http
                .post(format!("{base}/api/v1/conversations/{id}/resolve"))
                .bearer_auth(owner)
                .json(&json!({}))
                .send()
                .await
                .expect("answers");
            assert_eq!(response.status(), StatusCode::OK);
        });
    }
    while let Some(done) = resolves.join_next().await {
        done.expect("resolved");
    }
    stop.store(true, Ordering::Relaxed);
    watcher.await.expect("watcher");
    assert!(
        highest.load(Ordering::Relaxed) <= 3,
        "spec: L4: a load went above 3"
    );
    let mut open_assigned = 0;
    let mut still_waiting = 0;
    for id in &conversations {
        let c = conversation(&one, *id).await;
        match (c["status"].as_str(), c["assignment"]["type"].as_str()) {
            (Some("open"), Some("assigned")) => open_assigned += 1,
            (Some("open"), Some("waiting")) => still_waiting += 1,
            _ => {}
        }
    }
    assert_eq!(
        (open_assigned, still_waiting),
        (30, 64),
        "spec: L4: freed slots refilled"
    );
    assert_eq!(agents.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r6_each_offer_timeout_fires_once_across_two_processes() {
    let one = spawn_manual(Backend::Postgres).await;
    let two = one.another_process().await;
    let (agents, _queue, inbox) = team(&one, 4, 5, "offer").await;
    let conversations = arrive(&one, &two, &inbox, 12).await;
    let mut offered = std::collections::BTreeSet::new();
    for id in &conversations {
        let c = conversation(&one, *id).await;
        assert_eq!(c["assignment"]["type"], "offered");
        offered.insert(text(&c["assignment"]["agent"]));
    }
    // N3's offline checks of the new conversations are due at once: fired first.
    assert_eq!(one.run_timers().await, 12);
    one.advance(31);
    // Both workers claim at once: each timer fires in exactly one of them.
    let (a, b) = tokio::join!(one.run_timers(), two.run_timers());
    assert_eq!(
        a + b,
        12,
        "spec: R6, L4: every due timer fired exactly once"
    );
    for agent in agents {
        if offered.contains(&agent.to_string()) {
            assert_eq!(availability(&one, agent).await, "rona");
        }
    }
}
