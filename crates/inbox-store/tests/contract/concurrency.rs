//! The invariants that concurrency can break, under concurrency (quality.md L1, L3, and the R2
//! capacity race), on both backends. On PostgreSQL the fixture's pool gives each task its own
//! connection (12), so the races are real races between database sessions.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use conversation_core::DomainEvent;
use conversation_core::conversation::{Conversation, ConversationCommand, LoadChange};
use conversation_core::ids::{AgentId, ConversationId, MessageId};
use conversation_core::ports::{
    AggregateChange, AggregateState, Commit, CommitStore, ExpectedVersion, StoreError,
};
use tokio::task::JoinSet;

use crate::commit::dialog_commit;
use crate::support::{Fixture, contract, id, t};

/// Reads a conversation and its version with plain SQL (readers are tested elsewhere).
async fn load(fx: &Fixture, conversation: ConversationId) -> (Conversation, u64) {
    let row = fx
        .store
        .db()
        .fetch_optional(
            "SELECT state, version FROM conversations WHERE id = $1",
            &[conversation.into()],
        )
        .await
        .unwrap()
        .unwrap();
    (row.json("state").unwrap(), row.count("version").unwrap())
}

/// The use-case loop of one inbound message: read, decide, commit; on a lost race read again.
/// Returns whether this call stored the message (false: it was a duplicate).
async fn receive(
    fx: &Fixture,
    conversation: ConversationId,
    message: MessageId,
    client_id: &str,
    at: i64,
) -> bool {
    loop {
        let (state, version) = load(fx, conversation).await;
        let command = ConversationCommand::ReceiveInbound {
            message,
            queue: None,
            dialog: None,
        };
        let events = state
            .decide(&command, t(at))
            .expect("inbound is never refused");
        let mut after = state.clone();
        events.iter().for_each(|e| after.apply(e));
        let mut commit = Commit::new(fx.account);
        commit.changes.push(AggregateChange {
            expected: ExpectedVersion::Exactly(version),
            state: AggregateState::Conversation {
                conversation: Box::new(after),
                load: LoadChange::default(),
            },
            events: events.into_iter().map(DomainEvent::Conversation).collect(),
        });
        commit.messages.push(fx.inbound(
            conversation,
            message,
            client_id,
            None,
            Some(client_id),
            t(at),
        ));
        match fx.store.commit(commit).await {
            Ok(_) => return true,
            Err(StoreError::Duplicate { .. }) => return false,
            Err(StoreError::Domain(e)) if e.code() == "conflict" => {}
            Err(other) => panic!("unexpected store error: {other:?}"),
        }
    }
}

// spec: L1, M8, M9. 50 clients send 200 messages each into 20 conversations; a fifth of the
// sends are retried with the same client id (as after a lost response), some at once and some
// later, and every lost race is retried by the use-case loop.
contract!(
    l1_m8_m9_concurrent_senders_with_retries_store_each_message_once_gap_free,
    |fx: Fixture| async move {
        const CLIENTS: usize = 50;
        const MESSAGES: usize = 200;
        const CONVERSATIONS: usize = 20;
        let fx = Arc::new(fx);
        let inbox = fx.inbox(None).await;
        let mut conversations = Vec::new();
        for _ in 0..CONVERSATIONS {
            conversations.push(fx.start(inbox, fx.contact().await, None).await.0.id);
        }
        let conversations = Arc::new(conversations);
        let mut clients = JoinSet::new();
        for client in 0..CLIENTS {
            let (fx, conversations) = (Arc::clone(&fx), Arc::clone(&conversations));
            clients.spawn(async move {
                let conversation = conversations[client % CONVERSATIONS];
                let mut stored = 0;
                for n in 0..MESSAGES {
                    let client_id = format!("client-{client}-{n}");
                    let message = MessageId::from_uuid(id());
                    let at = i64::try_from(10 + n).unwrap();
                    if receive(&fx, conversation, message, &client_id, at).await {
                        stored += 1;
                    }
                    if (client + n) % 5 == 0 {
                        // The retry: a new request id, the same client id.
                        assert!(
                            !receive(
                                &fx,
                                conversation,
                                MessageId::from_uuid(id()),
                                &client_id,
                                at
                            )
                            .await
                        );
                    }
                }
                stored
            });
        }
        let mut stored = 0;
        while let Some(result) = clients.join_next().await {
            stored += result.unwrap();
        }
        assert_eq!(
            stored,
            CLIENTS * MESSAGES,
            "every distinct message was stored by exactly one call"
        );
        for conversation in conversations.iter() {
            let rows = fx
                .store
                .db()
                .fetch_all(
                    "SELECT seq, client_id FROM messages WHERE conversation_id = $1 ORDER BY seq",
                    &[(*conversation).into()],
                )
                .await
                .unwrap();
            let seqs: Vec<i64> = rows.iter().map(|r| r.int("seq").unwrap()).collect();
            assert_eq!(
                seqs,
                (1..=i64::try_from(rows.len()).unwrap()).collect::<Vec<_>>(),
                "gap-free"
            );
            let client_ids: BTreeSet<Option<String>> = rows
                .iter()
                .map(|r| r.opt_text("client_id").unwrap())
                .collect();
            assert_eq!(client_ids.len(), rows.len(), "no duplicates");
            // The first message of the conversation plus 200 from each of its clients.
            assert_eq!(
                rows.len(),
                1 + MESSAGES
                    * (CLIENTS / CONVERSATIONS
                        + usize::from(
                            conversations
                                .iter()
                                .position(|c| c == conversation)
                                .unwrap()
                                < CLIENTS % CONVERSATIONS
                        ))
            );
        }
        let events = fx
            .store
            .db()
            .fetch_optional(
                "SELECT COUNT(*) AS n, MAX(seq) AS last FROM events WHERE account_id = $1",
                &[fx.account.into()],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            events.int("n").unwrap(),
            events.int("last").unwrap(),
            "the event log is gap-free"
        );
        assert_eq!(
            events.int("n").unwrap(),
            i64::try_from(2 * CONVERSATIONS + CLIENTS * MESSAGES).unwrap(),
            "one event per stored message"
        );
    }
);

// spec: L3, C1. 100 concurrent "start conversation" calls for one contact on one inbox.
contract!(
    l3_c1_concurrent_starts_leave_exactly_one_open_conversation,
    |fx: Fixture| async move {
        let fx = Arc::new(fx);
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let mut calls = JoinSet::new();
        for n in 0..100 {
            let fx = Arc::clone(&fx);
            calls.spawn(async move {
                let (commit, _) = fx.start_commit(inbox, contact, None, None, t(n));
                fx.store.commit(commit).await
            });
        }
        let (mut won, mut conflicts) = (0, 0);
        while let Some(result) = calls.join_next().await {
            match result.unwrap() {
                Ok(_) => won += 1,
                Err(StoreError::Domain(e)) if e.code() == "conflict" => conflicts += 1,
                Err(other) => panic!("unexpected: {other:?}"),
            }
        }
        assert_eq!((won, conflicts), (1, 99));
        let open = fx
            .store
            .db()
            .fetch_optional(
                "SELECT COUNT(*) AS n FROM conversations WHERE contact_id = $1 AND status = 'open'",
                &[contact.into()],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(open.int("n").unwrap(), 1);
    }
);

// spec: L3, D3. 100 concurrent "create dialog" calls for one contact, each decided from an
// empty snapshot, spread over two of the contact's conversations.
contract!(
    l3_d3_concurrent_dialog_creations_leave_exactly_one_active_dialog,
    |fx: Fixture| async move {
        let fx = Arc::new(fx);
        let contact = fx.contact().await;
        let (first, _) = fx.start(fx.inbox(None).await, contact, None).await;
        let (second, _) = fx.start(fx.inbox(None).await, contact, None).await;
        let mut calls = JoinSet::new();
        for n in 0..100 {
            let fx = Arc::clone(&fx);
            let conversation = if n % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            calls.spawn(async move { fx.store.commit(dialog_commit(&fx, &conversation).0).await });
        }
        let (mut won, mut refused) = (0, 0);
        while let Some(result) = calls.join_next().await {
            match result.unwrap() {
                Ok(_) => won += 1,
                Err(StoreError::Domain(e))
                    if matches!(e.code(), "dialog_already_active" | "conflict") =>
                {
                    refused += 1
                }
                Err(other) => panic!("unexpected: {other:?}"),
            }
        }
        assert_eq!((won, refused), (1, 99));
        let active = fx
            .store
            .db()
            .fetch_optional(
                "SELECT COUNT(*) AS n FROM dialogs WHERE contact_id = $1 AND status = 'active'",
                &[contact.into()],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(active.int("n").unwrap(), 1);
    }
);

// spec: R2. 100 conversations routed concurrently over 10 agents of capacity 3: every task
// tries the agents in its own order until one has room. No agent is ever above capacity (a
// watcher samples the loads throughout), exactly 30 are assigned, 70 keep waiting, and each
// agent's load equals the conversations it holds.
contract!(
    r2_concurrent_routing_never_exceeds_capacity,
    |fx: Fixture| async move {
        let fx = Arc::new(fx);
        let mut agents = Vec::new();
        for _ in 0..10 {
            agents.push(fx.agent(3).await);
        }
        let queue = fx.queue(&agents).await;
        let inbox = fx.inbox(Some(queue)).await;
        let mut conversations = Vec::new();
        for _ in 0..100 {
            conversations.push(fx.start(inbox, fx.contact().await, Some(queue)).await.0.id);
        }
        let done = Arc::new(AtomicBool::new(false));
        let watcher = {
            let (fx, done) = (Arc::clone(&fx), Arc::clone(&done));
            tokio::spawn(async move {
                let mut samples = 0;
                while !done.load(Ordering::Relaxed) || samples == 0 {
                    let row = fx
                        .store
                        .db()
                        .fetch_optional(
                            "SELECT MAX(load - capacity) AS over FROM agents WHERE account_id = $1",
                            &[fx.account.into()],
                        )
                        .await
                        .unwrap()
                        .unwrap();
                    assert!(
                        row.int("over").unwrap() <= 0,
                        "an agent went above capacity"
                    );
                    samples += 1;
                    tokio::task::yield_now().await;
                }
                samples
            })
        };
        let agents = Arc::new(agents);
        let mut routers = JoinSet::new();
        for (n, conversation) in conversations.iter().copied().enumerate() {
            let (fx, agents) = (Arc::clone(&fx), Arc::clone(&agents));
            routers.spawn(async move {
                for k in 0..agents.len() {
                    let agent: AgentId = agents[(n + k) % agents.len()];
                    loop {
                        let (state, version) = load(&fx, conversation).await;
                        let command = ConversationCommand::RouteAssign { agent };
                        let Ok(events) = state.decide(&command, t(50)) else {
                            return None;
                        };
                        let mut after = state.clone();
                        events.iter().for_each(|e| after.apply(e));
                        let mut commit = Commit::new(fx.account);
                        commit.changes.push(AggregateChange {
                            expected: ExpectedVersion::Exactly(version),
                            state: AggregateState::Conversation {
                                load: LoadChange::between(
                                    state.load_holder(),
                                    after.load_holder(),
                                    &events,
                                ),
                                conversation: Box::new(after),
                            },
                            events: events.into_iter().map(DomainEvent::Conversation).collect(),
                        });
                        match fx.store.commit(commit).await {
                            Ok(_) => return Some(agent),
                            Err(StoreError::Domain(e)) if e.code() == "capacity_exceeded" => break,
                            Err(StoreError::Domain(e)) if e.code() == "conflict" => {}
                            Err(other) => panic!("unexpected: {other:?}"),
                        }
                    }
                }
                None
            });
        }
        let mut assigned = 0;
        while let Some(result) = routers.join_next().await {
            assigned += usize::from(result.unwrap().is_some());
        }
        done.store(true, Ordering::Relaxed);
        assert!(watcher.await.unwrap() > 0);
        assert_eq!(assigned, 30);
        for agent in agents.iter() {
            let held = fx
                .store
                .db()
                .fetch_optional(
                    "SELECT COUNT(*) AS n FROM conversations WHERE load_holder = $1",
                    &[(*agent).into()],
                )
                .await
                .unwrap()
                .unwrap();
            assert_eq!(fx.load_of(*agent).await, held.int("n").unwrap());
            assert_eq!(fx.load_of(*agent).await, 3);
        }
        let waiting = fx.store.db().fetch_optional("SELECT COUNT(*) AS n FROM conversations WHERE queue_id = $1 AND queued_since IS NOT NULL", &[queue.into()]).await.unwrap().unwrap();
        assert_eq!(waiting.int("n").unwrap(), 70);
    }
);
