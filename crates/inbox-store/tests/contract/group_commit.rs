//! Group commit: commits written together in one transaction are each answered exactly as they
//! would be alone, a refused one is undone alone, nothing is half-written, and the event log
//! stays gap-free with each commit's events together and in commit order. `commit_each` queues
//! commits next to each other, so on an idle lane (a fresh store on SQLite, a fresh account on
//! PostgreSQL) they share one transaction; the concurrent tests race real tasks.

use std::collections::BTreeMap;
use std::sync::Arc;

use conversation_core::DomainEvent;
use conversation_core::conversation::{
    CapacityClaim, Conversation, ConversationCommand, LoadChange,
};
use conversation_core::ids::{ConversationId, MessageId};
use conversation_core::ports::{
    AggregateChange, AggregateState, Commit, CommitReceipt, CommitStore, ExpectedVersion,
    StoreError,
};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use crate::commit::dialog_commit;
use crate::support::{Fixture, contract, id, t};

/// An inbound message into `conversation` (read at `version`), with this client id.
fn inbound(
    fx: &Fixture,
    conversation: &Conversation,
    version: u64,
    client_id: &str,
    at: i64,
) -> (Commit, Conversation, MessageId) {
    let message = MessageId::from_uuid(id());
    let command = ConversationCommand::ReceiveInbound {
        message,
        queue: None,
        dialog: None,
    };
    let events = conversation.decide(&command, t(at)).expect("accepted");
    let mut after = conversation.clone();
    events.iter().for_each(|e| after.apply(e));
    let mut commit = Commit::new(fx.account);
    commit.changes.push(AggregateChange {
        expected: ExpectedVersion::Exactly(version),
        state: AggregateState::Conversation {
            conversation: Box::new(after.clone()),
            load: LoadChange::default(),
        },
        events: events.into_iter().map(DomainEvent::Conversation).collect(),
    });
    commit.messages.push(fx.inbound(
        conversation.id,
        message,
        client_id,
        None,
        Some(client_id),
        t(at),
    ));
    (commit, after, message)
}

/// The commit's events as JSON, in order.
fn events_of(commit: &Commit) -> Vec<serde_json::Value> {
    commit
        .changes
        .iter()
        .flat_map(|change| &change.events)
        .map(|event| serde_json::to_value(event).unwrap())
        .collect()
}

/// The account's event log: sequence and payload, in sequence order.
async fn log(fx: &Fixture) -> Vec<(i64, serde_json::Value)> {
    fx.store
        .db()
        .fetch_all(
            "SELECT seq, payload FROM events WHERE account_id = $1 ORDER BY seq",
            &[fx.account.into()],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.int("seq").unwrap(), row.json("payload").unwrap()))
        .collect()
}

/// Checks the log is 1..=n without a gap and each receipt's events sit, together and in order,
/// just below its `last_event_sequence`. Returns the log's length.
async fn assert_log(fx: &Fixture, written: &[(CommitReceipt, Vec<serde_json::Value>)]) -> usize {
    let log = log(fx).await;
    let seqs: Vec<i64> = log.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(
        seqs,
        (1..=i64::try_from(log.len()).unwrap()).collect::<Vec<_>>(),
        "the event log is gap-free"
    );
    for (receipt, events) in written {
        let last = usize::try_from(receipt.last_event_sequence).unwrap();
        let stored: Vec<&serde_json::Value> = log[last - events.len()..last]
            .iter()
            .map(|(_, payload)| payload)
            .collect();
        assert_eq!(
            stored,
            events.iter().collect::<Vec<_>>(),
            "a commit's events are together, in order, at its receipt's sequences"
        );
    }
    log.len()
}

async fn count(fx: &Fixture, sql: &str, arg: conversation_core::ids::ConversationId) -> i64 {
    fx.store
        .db()
        .fetch_optional(sql, &[arg.into()])
        .await
        .unwrap()
        .unwrap()
        .int("n")
        .unwrap()
}

fn code(result: &Result<CommitReceipt, StoreError>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(StoreError::Domain(e)) => e.code().into(),
        Err(StoreError::Duplicate { .. }) => "duplicate".into(),
        Err(other) => format!("{other:?}"),
    }
}

// spec: M8, M9, C1, D3, R2, A1, N1. One batch holding successes and every kind of refusal: each
// commit gets what it would get alone after the ones before it (a duplicate of a message written
// earlier in the same batch names that message), refusals leave nothing behind, and the
// successes' events follow one another in submission order.
contract!(
    group_commit_a_refused_commit_in_a_batch_is_undone_alone_and_the_others_stay_whole,
    |fx: Fixture| async move {
        let full_agent = fx.agent(0).await;
        let inbox = fx.inbox(None).await;
        let contact = fx.contact().await;
        let (a, _) = fx.start(inbox, contact, None).await;
        let (b, started_b) = fx.start(inbox, fx.contact().await, None).await;
        assert_eq!(started_b.last_event_sequence, 4);

        let (ok0, a2, m0) = inbound(&fx, &a, 1, "k0", 10);
        let (stale, _, _) = inbound(&fx, &a, 1, "k1", 11);
        let (duplicate, _, _) = inbound(&fx, &a2, 2, "k0", 12);
        let (ok3, a3, m3) = inbound(&fx, &a2, 2, "k3", 13);
        let (second_live, _) = fx.start_commit(inbox, contact, None, None, t(14));
        let (dialog, dialog_id) = dialog_commit(&fx, &a);
        let (second_dialog, _) = dialog_commit(&fx, &a);
        let (mut full, _, _) = inbound(&fx, &b, 1, "kb", 15);
        let AggregateState::Conversation { load, .. } = &mut full.changes[0].state else {
            unreachable!()
        };
        load.claim = Some(CapacityClaim {
            agent: full_agent,
            enforce_capacity: true,
        });
        let (mut foreign, _) = fx.start_commit(inbox, fx.contact().await, None, None, t(16));
        foreign.account = conversation_core::ids::AccountId::from_uuid(id());
        let (ok9, _, m9) = inbound(&fx, &a3, 3, "k9", 17);

        let batch = vec![
            ok0.clone(),
            stale,
            duplicate,
            ok3.clone(),
            second_live,
            dialog.clone(),
            second_dialog,
            full,
            foreign,
            ok9.clone(),
        ];
        let results = fx.store.commit_each(batch).await;
        let codes: Vec<String> = results.iter().map(code).collect();
        assert_eq!(
            codes,
            [
                "ok",
                "conflict",
                "duplicate",
                "ok",
                "conflict",
                "ok",
                "dialog_already_active",
                "capacity_exceeded",
                "not_found",
                "ok"
            ]
        );
        assert!(
            matches!(results[2], Err(StoreError::Duplicate { existing }) if existing == m0),
            "the duplicate names the message written earlier in its batch: {:?}",
            results[2]
        );
        assert!(
            matches!(&results[6], Err(StoreError::Domain(e))
                if *e == conversation_core::DomainError::DialogAlreadyActive { active: dialog_id }),
            "{:?}",
            results[6]
        );

        // Receipts as alone: versions and sequences continue from the commit before.
        let receipt = |i: usize| results[i].as_ref().unwrap().clone();
        let (e0, e3, e5, e9) = (
            events_of(&ok0),
            events_of(&ok3),
            events_of(&dialog),
            events_of(&ok9),
        );
        assert_eq!(receipt(0).versions, [2]);
        assert_eq!(receipt(0).message_sequences, [2]);
        assert_eq!(receipt(3).versions, [3]);
        assert_eq!(receipt(3).message_sequences, [3]);
        assert_eq!(receipt(5).versions, [1]);
        assert_eq!(receipt(9).versions, [4]);
        assert_eq!(receipt(9).message_sequences, [4]);
        let mut last = 4;
        for (i, events) in [(0, &e0), (3, &e3), (5, &e5), (9, &e9)] {
            last += u64::try_from(events.len()).unwrap();
            assert_eq!(receipt(i).last_event_sequence, last, "commit {i}");
        }
        let written = [
            (receipt(0), e0),
            (receipt(3), e3),
            (receipt(5), e5),
            (receipt(9), e9),
        ];
        assert_eq!(
            assert_log(&fx, &written).await,
            usize::try_from(last).unwrap(),
            "no event of a refused commit"
        );

        // Nothing of the refused commits was written.
        let rows = fx
            .store
            .db()
            .fetch_all(
                "SELECT id, seq FROM messages WHERE conversation_id = $1 ORDER BY seq",
                &[a.id.into()],
            )
            .await
            .unwrap();
        let stored: Vec<(uuid::Uuid, i64)> = rows
            .iter()
            .map(|r| (r.uuid("id").unwrap(), r.int("seq").unwrap()))
            .collect();
        assert_eq!(
            stored[1..],
            [(m0.as_uuid(), 2), (m3.as_uuid(), 3), (m9.as_uuid(), 4)]
        );
        let in_account = |table: &str| {
            format!(
                "SELECT COUNT(*) AS n FROM {table} WHERE account_id = (SELECT account_id FROM conversations WHERE id = $1)"
            )
        };
        assert_eq!(count(&fx, &in_account("conversations"), a.id).await, 2);
        assert_eq!(count(&fx, &in_account("dialogs"), a.id).await, 1);
        assert_eq!(count(&fx, &in_account("messages"), a.id).await, 5);
        assert_eq!(
            count(
                &fx,
                "SELECT version AS n FROM conversations WHERE id = $1",
                b.id
            )
            .await,
            1
        );
        assert_eq!(fx.load_of(full_agent).await, 0);
    }
);

/// Reads a conversation and its version with plain SQL.
async fn read(fx: &Fixture, conversation: ConversationId) -> (Conversation, u64) {
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

/// What one caller of the concurrent test was told about a commit that was written.
struct Written {
    conversation: ConversationId,
    message: MessageId,
    expected: u64,
    receipt: CommitReceipt,
    events: Vec<serde_json::Value>,
}

// spec: M8, M9, C1, N1, L8. 48 callers at once, each 15 times: a new message read at the latest
// version (racing the others, so many lose the version check), every third time also the retry
// of an earlier message (a duplicate that must name the stored message), every fifth time a
// second live conversation for a contact (refused). Each caller checks its own answers; then the
// stored rows must be exactly the acknowledged ones and the log gap-free with each commit's
// events together at its receipt's sequences.
contract!(
    group_commit_concurrent_callers_each_get_their_own_answer,
    |fx: Fixture| async move {
        const CALLERS: usize = 48;
        const ROUNDS: usize = 15;
        const CONVERSATIONS: usize = 6;
        let fx = Arc::new(fx);
        let inbox = fx.inbox(None).await;
        let mut conversations = Vec::new();
        for _ in 0..CONVERSATIONS {
            let contact = fx.contact().await;
            conversations.push((fx.start(inbox, contact, None).await.0.id, contact));
        }
        let conversations = Arc::new(conversations);
        let barrier = Arc::new(Barrier::new(CALLERS));
        let mut callers = JoinSet::new();
        for caller in 0..CALLERS {
            let (fx, conversations, barrier) = (
                Arc::clone(&fx),
                Arc::clone(&conversations),
                Arc::clone(&barrier),
            );
            callers.spawn(async move {
                let (conversation, contact) = conversations[caller % CONVERSATIONS];
                let mut written: Vec<Written> = Vec::new();
                let mut refused = 0;
                barrier.wait().await;
                for round in 0..ROUNDS {
                    let at = i64::try_from(10 + round).unwrap();
                    let client_id = format!("caller-{caller}-{round}");
                    loop {
                        let (state, version) = read(&fx, conversation).await;
                        let (commit, _, message) = inbound(&fx, &state, version, &client_id, at);
                        let events = events_of(&commit);
                        match fx.store.commit(commit).await {
                            Ok(receipt) => {
                                assert_eq!(receipt.versions, [version + 1]);
                                written.push(Written {
                                    conversation,
                                    message,
                                    expected: version,
                                    receipt,
                                    events,
                                });
                                break;
                            }
                            Err(StoreError::Domain(e)) if e.code() == "conflict" => {}
                            Err(other) => panic!("unexpected: {other:?}"),
                        }
                    }
                    if round % 3 == 2 {
                        let earlier = &written[round - 2];
                        let retry_of = format!("caller-{caller}-{}", round - 2);
                        loop {
                            let (state, version) = read(&fx, conversation).await;
                            let (commit, _, _) = inbound(&fx, &state, version, &retry_of, at);
                            match fx.store.commit(commit).await {
                                Err(StoreError::Duplicate { existing }) => {
                                    assert_eq!(existing, earlier.message);
                                    break;
                                }
                                Err(StoreError::Domain(e)) if e.code() == "conflict" => {}
                                other => panic!("expected a duplicate, got {other:?}"),
                            }
                        }
                    }
                    if round % 5 == 4 {
                        let (commit, _) = fx.start_commit(inbox, contact, None, None, t(at));
                        let result = fx.store.commit(commit).await;
                        assert_eq!(code(&result), "conflict");
                        refused += 1;
                    }
                }
                (written, refused)
            });
        }
        let mut written = Vec::new();
        let mut refused = 0;
        while let Some(result) = callers.join_next().await {
            let (mine, theirs) = result.unwrap();
            written.extend(mine);
            refused += theirs;
        }
        assert_eq!(written.len(), CALLERS * ROUNDS);
        assert_eq!(refused, CALLERS * (ROUNDS / 5));

        // Per conversation: versions 2, 3, ... handed out once each; stored messages are exactly
        // the acknowledged ones, at the sequences their receipts named, gap-free.
        let mut by_conversation: BTreeMap<ConversationId, Vec<&Written>> = BTreeMap::new();
        for w in &written {
            by_conversation.entry(w.conversation).or_default().push(w);
        }
        for (conversation, mut ws) in by_conversation {
            ws.sort_by_key(|w| w.expected);
            let versions: Vec<u64> = ws.iter().map(|w| w.expected).collect();
            assert_eq!(
                versions,
                (1..=u64::try_from(ws.len()).unwrap()).collect::<Vec<_>>(),
                "each version was won exactly once"
            );
            let rows = fx
                .store
                .db()
                .fetch_all(
                    "SELECT id, seq FROM messages WHERE conversation_id = $1 AND seq > 1 ORDER BY seq",
                    &[conversation.into()],
                )
                .await
                .unwrap();
            let stored: Vec<(uuid::Uuid, u64)> = rows
                .iter()
                .map(|r| (r.uuid("id").unwrap(), r.count("seq").unwrap()))
                .collect();
            let acknowledged: Vec<(uuid::Uuid, u64)> = ws
                .iter()
                .map(|w| (w.message.as_uuid(), w.receipt.message_sequences[0]))
                .collect();
            assert_eq!(stored, acknowledged);
            assert_eq!(
                acknowledged.iter().map(|(_, seq)| *seq).collect::<Vec<_>>(),
                (2..=u64::try_from(ws.len() + 1).unwrap()).collect::<Vec<_>>()
            );
        }
        let receipts: Vec<(CommitReceipt, Vec<serde_json::Value>)> = written
            .iter()
            .map(|w| (w.receipt.clone(), w.events.clone()))
            .collect();
        let logged = assert_log(&fx, &receipts).await;
        let acknowledged_events: usize = written.iter().map(|w| w.events.len()).sum();
        assert_eq!(
            logged,
            2 * CONVERSATIONS + acknowledged_events,
            "the log holds the starts and the acknowledged commits' events, nothing else"
        );
        let (first, _) = conversations[0];
        assert_eq!(
            count(
                &fx,
                "SELECT COUNT(*) AS n FROM conversations WHERE account_id = \
                 (SELECT account_id FROM conversations WHERE id = $1)",
                first
            )
            .await,
            i64::try_from(CONVERSATIONS).unwrap()
        );
    }
);

// Cancellation: callers that drop their futures (at any point: before their batch, during it)
// leave each of their commits either whole or absent, and the queue keeps serving.
contract!(
    group_commit_callers_that_go_away_leave_whole_commits_and_a_working_queue,
    |fx: Fixture| async move {
        let fx = Arc::new(fx);
        let inbox = fx.inbox(None).await;
        let mut starts = Vec::new();
        let mut tasks = Vec::new();
        for n in 0..60 {
            let contact = fx.contact().await;
            let (commit, state) = fx.start_commit(inbox, contact, None, None, t(n));
            starts.push((state.id, commit.messages[0].id));
            let fx = Arc::clone(&fx);
            tasks.push(tokio::spawn(async move { fx.store.commit(commit).await }));
        }
        for (n, task) in tasks.iter().enumerate() {
            if n % 2 == 1 {
                task.abort();
            }
        }
        for (n, task) in tasks.into_iter().enumerate() {
            match task.await {
                Ok(result) => {
                    result.expect("a caller that stayed is answered");
                }
                Err(error) => assert!(error.is_cancelled() && n % 2 == 1),
            }
        }
        // Aborted callers' commits may still be written when their batch had started; the queue
        // drains what was queued, so wait until the store is quiet (a new commit is answered
        // after everything queued before it).
        let (commit, _) = fx.start_commit(inbox, fx.contact().await, None, None, t(100));
        let after =
            tokio::time::timeout(std::time::Duration::from_secs(30), fx.store.commit(commit))
                .await
                .expect("the queue is not wedged")
                .expect("a later commit is written");
        let mut whole = 0;
        for (n, (conversation, message)) in starts.iter().enumerate() {
            let rows = (
                count(
                    &fx,
                    "SELECT COUNT(*) AS n FROM conversations WHERE id = $1",
                    *conversation,
                )
                .await,
                count(
                    &fx,
                    "SELECT COUNT(*) AS n FROM messages WHERE conversation_id = $1",
                    *conversation,
                )
                .await,
                count(
                    &fx,
                    "SELECT COUNT(*) AS n FROM events WHERE aggregate_id = $1",
                    *conversation,
                )
                .await,
            );
            assert!(
                rows == (1, 1, 2) || (rows == (0, 0, 0) && n % 2 == 1),
                "start {n} ({message}) is whole or, if its caller left, absent: {rows:?}"
            );
            whole += usize::from(rows.0 == 1);
        }
        let log = log(&fx).await;
        assert_eq!(log.len(), 2 * whole + 2, "every written start and the last");
        assert_eq!(after.last_event_sequence, u64::try_from(log.len()).unwrap());
        assert_eq!(
            log.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
            (1..=i64::try_from(log.len()).unwrap()).collect::<Vec<_>>()
        );
    }
);
