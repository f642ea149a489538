//! `CommitStore`: atomicity, versions, sequences, and each invariant the database holds.

use conversation_core::DomainEvent;
use conversation_core::conversation::{CapacityClaim, ConversationCommand, LoadChange};
use conversation_core::dialog::{ContactDialogs, CreateDialog, Dialog, DialogEvent};
use conversation_core::ids::{DialogId, MessageId, RequestTypeId};
use conversation_core::ports::{
    AggregateChange, AggregateState, Commit, CommitStore, ExpectedVersion, StoreError,
};

use crate::support::{Fixture, contract, id, t};

async fn count(fx: &Fixture, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE account_id = $1");
    fx.store
        .db()
        .fetch_optional(&sql, &[fx.account.into()])
        .await
        .unwrap()
        .unwrap()
        .int("n")
        .unwrap()
}

/// A dialog-creation commit for the contact in the conversation.
pub fn dialog_commit(
    fx: &Fixture,
    conversation: &conversation_core::conversation::Conversation,
) -> (Commit, DialogId) {
    let dialog = DialogId::from_uuid(id());
    let create = CreateDialog {
        dialog,
        account: fx.account,
        conversation: conversation.id,
        contact: conversation.contact,
        by: conversation_core::ids::AgentId::from_uuid(id()),
        title: "Refund".into(),
        request_type: RequestTypeId::from_uuid(id()),
        participants: Default::default(),
        reasons: Default::default(),
        components: Default::default(),
    };
    let created =
        Dialog::decide_create(create, &ContactDialogs::none(conversation.contact), t(5)).unwrap();
    let state = Dialog::from_created(&created);
    let mut commit = Commit::new(fx.account);
    commit.changes.push(AggregateChange {
        expected: ExpectedVersion::New,
        state: AggregateState::Dialog(Box::new(state)),
        events: vec![DomainEvent::Dialog {
            dialog,
            conversation: conversation.id,
            event: DialogEvent::Created(created),
        }],
    });
    (commit, dialog)
}

/// A commit applying `command` to a stored conversation at `version`.
pub fn command_commit(
    fx: &Fixture,
    conversation: &conversation_core::conversation::Conversation,
    version: u64,
    command: &ConversationCommand,
) -> (Commit, conversation_core::conversation::Conversation) {
    let events = conversation
        .decide(command, t(10))
        .expect("command accepted");
    let mut after = conversation.clone();
    for event in &events {
        after.apply(event);
    }
    let load = LoadChange::between(conversation.load_holder(), after.load_holder(), &events);
    let mut commit = Commit::new(fx.account);
    commit.changes.push(AggregateChange {
        expected: ExpectedVersion::Exactly(version),
        state: AggregateState::Conversation {
            conversation: Box::new(after.clone()),
            load,
        },
        events: events.into_iter().map(DomainEvent::Conversation).collect(),
    });
    (commit, after)
}

contract!(
    c1_starting_a_conversation_writes_state_message_and_events_at_once,
    |fx: Fixture| async move {
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let (_, receipt) = fx.start(inbox, contact, None).await;
        assert_eq!(receipt.versions, [1]);
        assert_eq!(receipt.message_sequences, [1]);
        assert_eq!(receipt.last_event_sequence, 2);
        assert_eq!(
            (
                count(&fx, "conversations").await,
                count(&fx, "messages").await,
                count(&fx, "events").await
            ),
            (1, 1, 2)
        );
    }
);

contract!(
    c1_a_second_live_conversation_for_the_contact_and_inbox_is_a_conflict,
    |fx: Fixture| async move {
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        fx.start(inbox, contact, None).await;
        let (commit, _) = fx.start_commit(inbox, contact, None, None, t(2));
        let err = fx.store.commit(commit).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Domain(e) if e.code() == "conflict"),
            "{err:?}"
        );
        assert_eq!(
            (
                count(&fx, "conversations").await,
                count(&fx, "messages").await,
                count(&fx, "events").await
            ),
            (1, 1, 2),
            "nothing half-written"
        );
        // Another inbox of the same contact is fine (K2).
        let other_inbox = fx.inbox(None).await;
        fx.start(other_inbox, contact, None).await;
    }
);

contract!(
    optimistic_version_check_refuses_a_stale_write,
    |fx: Fixture| async move {
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let agent = fx.agent(5).await;
        let (conversation, _) = fx.start(inbox, contact, None).await;
        let assign = ConversationCommand::RouteAssign { agent };
        let (first, _) = command_commit(&fx, &conversation, 1, &assign);
        let (stale, _) = command_commit(&fx, &conversation, 1, &assign);
        assert_eq!(fx.store.commit(first).await.unwrap().versions, [2]);
        let err = fx.store.commit(stale).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Domain(e) if e.code() == "conflict"),
            "{err:?}"
        );
        assert_eq!(
            fx.load_of(agent).await,
            1,
            "the losing commit claimed nothing"
        );
    }
);

contract!(
    m8_the_same_channel_message_is_stored_once,
    |fx: Fixture| async move {
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let (commit, conversation) = fx.start_commit(inbox, contact, None, Some("wamid.1"), t(1));
        let first_message = commit.messages[0].id;
        fx.store.commit(commit).await.unwrap();
        // The channel retries the webhook: the reopened conversation's inbound, same external id.
        let mut retry = Commit::new(fx.account);
        retry.messages.push(fx.inbound(
            conversation.id,
            MessageId::from_uuid(id()),
            "hello",
            Some("wamid.1"),
            None,
            t(2),
        ));
        match fx.store.commit(retry).await {
            Err(StoreError::Duplicate { existing }) => assert_eq!(existing, first_message),
            other => panic!("expected a duplicate, got {other:?}"),
        }
        assert_eq!(count(&fx, "messages").await, 1);
    }
);

contract!(
    m8_a_client_retry_with_the_same_client_id_is_stored_once,
    |fx: Fixture| async move {
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let (conversation, _) = fx.start(inbox, contact, None).await;
        let send = |message| {
            let mut commit = Commit::new(fx.account);
            commit.messages.push(fx.inbound(
                conversation.id,
                message,
                "again",
                None,
                Some("client-7"),
                t(3),
            ));
            commit
        };
        let first = MessageId::from_uuid(id());
        fx.store.commit(send(first)).await.unwrap();
        match fx.store.commit(send(MessageId::from_uuid(id()))).await {
            Err(StoreError::Duplicate { existing }) => assert_eq!(existing, first),
            other => panic!("expected a duplicate, got {other:?}"),
        }
    }
);

contract!(
    m9_message_sequences_are_gap_free_per_conversation,
    |fx: Fixture| async move {
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let (conversation, _) = fx.start(inbox, contact, None).await;
        let mut sequences = vec![1];
        for n in 0..5 {
            let mut commit = Commit::new(fx.account);
            commit.messages.push(fx.inbound(
                conversation.id,
                MessageId::from_uuid(id()),
                &format!("m{n}"),
                None,
                None,
                t(3 + n),
            ));
            commit.messages.push(fx.inbound(
                conversation.id,
                MessageId::from_uuid(id()),
                &format!("n{n}"),
                None,
                None,
                t(3 + n),
            ));
            sequences.extend(fx.store.commit(commit).await.unwrap().message_sequences);
        }
        // A failed commit takes no sequence number.
        let mut failing = Commit::new(fx.account);
        failing.messages.push(fx.inbound(
            conversation.id,
            MessageId::from_uuid(id()),
            "x",
            None,
            Some("dup"),
            t(9),
        ));
        failing.messages.push(fx.inbound(
            conversation.id,
            MessageId::from_uuid(id()),
            "y",
            None,
            Some("dup"),
            t(9),
        ));
        assert!(fx.store.commit(failing).await.is_err());
        let mut last = Commit::new(fx.account);
        last.messages.push(fx.inbound(
            conversation.id,
            MessageId::from_uuid(id()),
            "z",
            None,
            None,
            t(10),
        ));
        sequences.extend(fx.store.commit(last).await.unwrap().message_sequences);
        assert_eq!(sequences, (1..=12).collect::<Vec<u64>>());
    }
);

contract!(
    d3_a_second_active_dialog_for_the_contact_is_refused_by_the_database,
    |fx: Fixture| async move {
        let (inbox, other_inbox, contact) = (
            fx.inbox(None).await,
            fx.inbox(None).await,
            fx.contact().await,
        );
        let (first, _) = fx.start(inbox, contact, None).await;
        let (second, _) = fx.start(other_inbox, contact, None).await;
        // Both decided from an empty snapshot, as two racing requests would.
        let (a, active) = dialog_commit(&fx, &first);
        let (b, _) = dialog_commit(&fx, &second);
        fx.store.commit(a).await.unwrap();
        match fx.store.commit(b).await {
            Err(StoreError::Domain(e)) => {
                assert_eq!(e.code(), "dialog_already_active");
                assert_eq!(
                    e,
                    conversation_core::DomainError::DialogAlreadyActive { active }
                );
            }
            other => panic!("expected dialog_already_active, got {other:?}"),
        }
        assert_eq!(count(&fx, "dialogs").await, 1);
    }
);

contract!(
    r2_an_enforced_claim_on_a_full_agent_fails_and_writes_nothing,
    |fx: Fixture| async move {
        let agent = fx.agent(1).await;
        let queue = fx.queue(&[agent]).await;
        let inbox = fx.inbox(Some(queue)).await;
        let (first, _) = fx.start(inbox, fx.contact().await, Some(queue)).await;
        let (second, _) = fx.start(inbox, fx.contact().await, Some(queue)).await;
        let assign = ConversationCommand::RouteAssign { agent };
        fx.store
            .commit(command_commit(&fx, &first, 1, &assign).0)
            .await
            .unwrap();
        let events_before = count(&fx, "events").await;
        let err = fx
            .store
            .commit(command_commit(&fx, &second, 1, &assign).0)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Domain(e) if e.code() == "capacity_exceeded"),
            "{err:?}"
        );
        assert_eq!(fx.load_of(agent).await, 1);
        assert_eq!(count(&fx, "events").await, events_before);
        // R7: a manual assignment by someone else is allowed over capacity and counts.
        let admin = conversation_core::actor::Principal::agent(
            conversation_core::ids::AgentId::from_uuid(id()),
        )
        .with_role(conversation_core::actor::Role::Admin);
        let (manual, after) = command_commit(
            &fx,
            &second,
            1,
            &ConversationCommand::AssignAgent { by: admin, agent },
        );
        let AggregateState::Conversation { load, .. } = &manual.changes[0].state else {
            unreachable!()
        };
        assert_eq!(
            load.claim,
            Some(CapacityClaim {
                agent,
                enforce_capacity: false
            })
        );
        fx.store.commit(manual).await.unwrap();
        assert_eq!(fx.load_of(agent).await, 2);
        // Resolving frees one unit.
        let resolve = ConversationCommand::Resolve {
            by: conversation_core::actor::Principal::agent(agent),
            wrap_up: None,
            closing: None,
            wrap_up_mandatory: false,
        };
        fx.store
            .commit(command_commit(&fx, &after, 2, &resolve).0)
            .await
            .unwrap();
        assert_eq!(fx.load_of(agent).await, 1);
    }
);

contract!(
    event_sequences_are_consecutive_across_commits,
    |fx: Fixture| async move {
        let inbox = fx.inbox(None).await;
        let mut last = 0;
        for _ in 0..4 {
            let (_, receipt) = fx.start(inbox, fx.contact().await, None).await;
            assert_eq!(receipt.last_event_sequence, last + 2);
            last = receipt.last_event_sequence;
        }
        let rows = fx
            .store
            .db()
            .fetch_all(
                "SELECT seq FROM events WHERE account_id = $1 ORDER BY seq",
                &[fx.account.into()],
            )
            .await
            .unwrap();
        let seqs: Vec<i64> = rows.iter().map(|r| r.int("seq").unwrap()).collect();
        assert_eq!(seqs, (1..=8).collect::<Vec<i64>>());
    }
);

contract!(
    a1_a_commit_for_another_accounts_conversation_is_not_found,
    |fx: Fixture| async move {
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let (mut commit, _) = fx.start_commit(inbox, contact, None, None, t(1));
        commit.account = conversation_core::ids::AccountId::from_uuid(id());
        let err = fx.store.commit(commit).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Domain(e) if e.code() == "not_found"),
            "{err:?}"
        );
    }
);
