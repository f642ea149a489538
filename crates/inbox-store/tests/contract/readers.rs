//! The read side: `ConversationStore` (one conversation, the live one), `DialogStore`,
//! `MessageStore`, `EventLog` and `RoutingStore`, each scoped to its account (A1).

use std::collections::BTreeSet;

use chrono::Duration;
use conversation_core::DomainEvent;
use conversation_core::actor::{Actor, Principal};
use conversation_core::channel::ChannelKind;
use conversation_core::conversation::{
    Assignment, Conversation, ConversationCommand, ConversationState, LoadChange,
};
use conversation_core::dialog::{DialogCommand, DialogEvent, DialogStatusKind};
use conversation_core::entities::Availability;
use conversation_core::ids::{
    AccountId, AgentId, ContactId, ConversationId, DialogId, InboxId, MessageId, QueueId,
};
use conversation_core::message::{Direction, Message, MessageKind, MessageOrigin, NewMessage};
use conversation_core::ports::{
    AggregateChange, AggregateId, AggregateState, Commit, CommitStore, ConversationQuery,
    ConversationStore, DialogStore, EventLog, ExpectedVersion, ListFilter, MessageStore,
    RoutingStore, Viewer,
};
use conversation_core::routing::AgentLoad;

use crate::commit::{command_commit, dialog_commit};
use crate::support::{Fixture, contract, exec, id, t};

/// Another account in the same database (A1).
pub async fn other_account(fx: &Fixture) -> AccountId {
    let account = AccountId::from_uuid(id());
    exec(
        fx.store.db(),
        "INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)",
        vec![account.into(), "Other account".into(), t(0).into()],
    )
    .await;
    account
}

/// Writes a conversation exactly as given, as a new aggregate with no events and no load move
/// (the list and reader tests need states that would take many commands to reach).
pub async fn put(fx: &Fixture, conversation: &Conversation) {
    let mut commit = Commit::new(conversation.account);
    commit.changes.push(AggregateChange {
        expected: ExpectedVersion::New,
        state: AggregateState::Conversation {
            conversation: Box::new(conversation.clone()),
            load: LoadChange::default(),
        },
        events: Vec::new(),
    });
    fx.store.commit(commit).await.expect("conversation written");
}

/// Rewrites a stored conversation with a new state (optimistic version `version`).
pub async fn replace(fx: &Fixture, conversation: &Conversation, version: u64) {
    let mut commit = Commit::new(conversation.account);
    commit.changes.push(AggregateChange {
        expected: ExpectedVersion::Exactly(version),
        state: AggregateState::Conversation {
            conversation: Box::new(conversation.clone()),
            load: LoadChange::default(),
        },
        events: Vec::new(),
    });
    fx.store
        .commit(commit)
        .await
        .expect("conversation rewritten");
}

/// A conversation of `account` on `inbox` in `state`, started at `created`, for `put`.
pub fn conversation(
    account: AccountId,
    inbox: InboxId,
    state: ConversationState,
    created: chrono::DateTime<chrono::Utc>,
) -> Conversation {
    Conversation {
        id: ConversationId::from_uuid(id()),
        account,
        inbox,
        channel: ChannelKind::WebChat,
        contact: ContactId::from_uuid(id()),
        state,
        created_at: created,
        last_inbound_at: None,
        last_message_at: None,
        waiting_since: None,
        skipped_agents: BTreeSet::new(),
    }
}

/// A message in the conversation (and dialog), inbound or written by `agent`.
fn message(
    fx: &Fixture,
    conversation: ConversationId,
    dialog: Option<DialogId>,
    agent: Option<AgentId>,
    body: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Message {
    let origin = MessageOrigin {
        id: MessageId::from_uuid(id()),
        account: fx.account,
        conversation,
        dialog,
        sequence: 0,
    };
    let (direction, sender) = match agent {
        Some(agent) => (Direction::Outbound, Actor::Agent(agent)),
        None => (
            Direction::Inbound,
            Actor::Contact(ContactId::from_uuid(id())),
        ),
    };
    let new = NewMessage {
        kind: MessageKind::Text,
        direction,
        sender,
        body: body.into(),
        quote: None,
        attachment: None,
        client_id: None,
        external_id: None,
    };
    Message::create(origin, new, at).expect("valid message")
}

/// Commits the messages; returns them as stored (with their sequences).
async fn send(fx: &Fixture, messages: Vec<Message>) -> Vec<Message> {
    let mut commit = Commit::new(fx.account);
    commit.messages.clone_from(&messages);
    let receipt = fx.store.commit(commit).await.expect("messages stored");
    messages
        .into_iter()
        .zip(receipt.message_sequences)
        .map(|(mut message, sequence)| {
            message.sequence = sequence;
            message
        })
        .collect()
}

contract!(
    c1_a_stored_conversation_reads_back_equal_with_its_times,
    |fx: Fixture| async move {
        // Times with microseconds, as the clock gives them; stores keep microseconds.
        let micro = |secs, micros| t(secs) + Duration::microseconds(micros);
        let mut c = conversation(
            fx.account,
            InboxId::from_uuid(id()),
            ConversationState::Open {
                assignment: Assignment::Offered {
                    queue: Some(QueueId::from_uuid(id())),
                    agent: AgentId::from_uuid(id()),
                    offered_at: micro(3, 1),
                    queued_since: micro(2, 999_999),
                    deadline: micro(33, 1),
                },
            },
            micro(1, 123_456),
        );
        c.last_inbound_at = Some(micro(2, 654_321));
        c.last_message_at = Some(micro(2, 654_321));
        c.waiting_since = Some(micro(2, 7));
        c.skipped_agents.insert(AgentId::from_uuid(id()));
        put(&fx, &c).await;
        let stored = fx.store.conversation(fx.account, c.id).await.unwrap();
        let stored = stored.expect("stored");
        assert_eq!(stored.value, c);
        assert_eq!(stored.version, 1);
        // A rewrite reads back too, one version up.
        c.state = ConversationState::Resolved {
            at: micro(40, 5),
            queue: Some(QueueId::from_uuid(id())),
            agent: Some(AgentId::from_uuid(id())),
        };
        c.waiting_since = None;
        replace(&fx, &c, 1).await;
        let stored = fx
            .store
            .conversation(fx.account, c.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((stored.value, stored.version), (c, 2));
    }
);

contract!(
    c1_the_live_conversation_is_the_one_not_resolved_or_dropped,
    |fx: Fixture| async move {
        let (inbox, other_inbox, contact) = (
            fx.inbox(None).await,
            fx.inbox(None).await,
            fx.contact().await,
        );
        assert_eq!(
            fx.store
                .live_conversation(fx.account, inbox, contact)
                .await
                .unwrap(),
            None
        );
        let (first, _) = fx.start(inbox, contact, None).await;
        let live = fx.store.live_conversation(fx.account, inbox, contact).await;
        assert_eq!(
            live.unwrap().map(|c| (c.value, c.version)),
            Some((first.clone(), 1))
        );
        // Another inbox's conversation is not this inbox's (K2).
        assert_eq!(
            fx.store
                .live_conversation(fx.account, other_inbox, contact)
                .await
                .unwrap(),
            None
        );
        // A bot conversation is live (C1 counts it).
        let agent = fx.agent(5).await;
        let bot = ConversationCommand::HandToBot {
            by: Principal::agent(agent).with_role(conversation_core::actor::Role::Admin),
            flow: "faq".into(),
        };
        let (commit, in_bot) = command_commit(&fx, &first, 1, &bot);
        fx.store.commit(commit).await.unwrap();
        let live = fx.store.live_conversation(fx.account, inbox, contact).await;
        assert_eq!(live.unwrap().map(|c| c.value), Some(in_bot.clone()));
        // Resolved: none, and the next one is live.
        let resolve = ConversationCommand::Resolve {
            by: Principal::agent(agent).with_role(conversation_core::actor::Role::Admin),
            wrap_up: None,
            closing: None,
            wrap_up_mandatory: false,
        };
        fx.store
            .commit(command_commit(&fx, &in_bot, 2, &resolve).0)
            .await
            .unwrap();
        assert_eq!(
            fx.store
                .live_conversation(fx.account, inbox, contact)
                .await
                .unwrap(),
            None
        );
        let (second, _) = fx.start(inbox, contact, None).await;
        let live = fx.store.live_conversation(fx.account, inbox, contact).await;
        assert_eq!(live.unwrap().map(|c| c.value.id), Some(second.id));
    }
);

contract!(
    a1_another_accounts_ids_read_as_absent,
    |fx: Fixture| async move {
        let agent = fx.agent(5).await;
        let queue = fx.queue(&[agent]).await;
        let inbox = fx.inbox(Some(queue)).await;
        let contact = fx.contact().await;
        let (commit, conversation) =
            fx.start_commit(inbox, contact, Some(queue), Some("wamid.a1"), t(1));
        let first_message = commit.messages[0].id;
        fx.store.commit(commit).await.unwrap();
        let (commit, dialog) = dialog_commit(&fx, &conversation);
        fx.store.commit(commit).await.unwrap();
        let dialog_message = send(
            &fx,
            vec![message(
                &fx,
                conversation.id,
                Some(dialog),
                None,
                "in the dialog",
                t(6),
            )],
        )
        .await;
        assert_eq!(dialog_message.len(), 1);

        // Everything is there for its own account...
        let own = fx.account;
        assert!(
            fx.store
                .conversation(own, conversation.id)
                .await
                .unwrap()
                .is_some()
        );
        assert!(fx.store.dialog(own, dialog).await.unwrap().is_some());
        assert!(
            fx.store
                .message(own, first_message)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(fx.store.candidates(own, queue).await.unwrap().len(), 1);
        assert_eq!(fx.store.waiting(own, queue, 10).await.unwrap().len(), 1);

        // ...and absent for another one.
        let other = other_account(&fx).await;
        let s = &fx.store;
        assert_eq!(s.conversation(other, conversation.id).await.unwrap(), None);
        assert_eq!(
            s.live_conversation(other, inbox, contact).await.unwrap(),
            None
        );
        assert_eq!(s.dialog(other, dialog).await.unwrap(), None);
        assert_eq!(
            s.contact_dialogs(other, contact)
                .await
                .unwrap()
                .iter()
                .count(),
            0
        );
        assert!(
            s.dialogs_of_contact(other, contact)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(s.message(other, first_message).await.unwrap(), None);
        assert_eq!(
            s.message_by_external_id(other, inbox, "wamid.a1")
                .await
                .unwrap(),
            None
        );
        assert!(
            s.messages_after(other, conversation.id, 0, 50)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            s.dialog_messages(other, dialog, 0, 50)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(s.events_after(other, 0, 50).await.unwrap().is_empty());
        let aggregate = AggregateId::Conversation(conversation.id);
        assert!(
            s.aggregate_events(other, aggregate, 0, 50)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(s.candidates(other, queue).await.unwrap().is_empty());
        assert!(s.waiting(other, queue, 10).await.unwrap().is_empty());
        for filter in ListFilter::ALL {
            let page = s
                .list_conversations(&ConversationQuery {
                    account: other,
                    viewer: Viewer {
                        agent,
                        queues: vec![queue],
                        sees_all: true,
                    },
                    filter,
                    inbox: None,
                    after: None,
                    limit: 25,
                })
                .await
                .unwrap();
            assert_eq!((page.rows.len(), page.total), (0, 0), "{filter:?}");
        }
    }
);

contract!(
    d3_contact_dialogs_is_the_snapshot_across_all_their_conversations,
    |fx: Fixture| async move {
        let (inbox, other_inbox, contact) = (
            fx.inbox(None).await,
            fx.inbox(None).await,
            fx.contact().await,
        );
        let (first, _) = fx.start(inbox, contact, None).await;
        let (second, _) = fx.start(other_inbox, contact, None).await;
        let (commit, paused) = dialog_commit(&fx, &first);
        fx.store.commit(commit).await.unwrap();
        // Pause it, then open another in the other conversation.
        let stored = fx.store.dialog(fx.account, paused).await.unwrap().unwrap();
        assert_eq!(stored.version, 1);
        let events = stored
            .value
            .decide(
                DialogCommand::Pause {
                    by: AgentId::from_uuid(id()),
                },
                t(6),
            )
            .unwrap();
        let mut after = stored.value.clone();
        for event in &events {
            after.apply(event);
        }
        let mut commit = Commit::new(fx.account);
        commit.changes.push(AggregateChange {
            expected: ExpectedVersion::Exactly(1),
            state: AggregateState::Dialog(Box::new(after.clone())),
            events: events
                .into_iter()
                .map(|event: DialogEvent| DomainEvent::Dialog {
                    dialog: paused,
                    conversation: first.id,
                    event,
                })
                .collect(),
        });
        fx.store.commit(commit).await.unwrap();
        let stored = fx.store.dialog(fx.account, paused).await.unwrap().unwrap();
        assert_eq!((stored.value, stored.version), (after, 2));

        let (commit, active) = dialog_commit(&fx, &second);
        fx.store.commit(commit).await.unwrap();
        let snapshot = fx.store.contact_dialogs(fx.account, contact).await.unwrap();
        assert_eq!(snapshot.contact(), contact);
        assert_eq!(snapshot.active(), Some(active));
        assert_eq!(snapshot.status_of(paused), Some(DialogStatusKind::Paused));
        assert_eq!(snapshot.iter().count(), 2);
        // Another contact's snapshot is empty.
        let stranger = fx.contact().await;
        let empty = fx
            .store
            .contact_dialogs(fx.account, stranger)
            .await
            .unwrap();
        assert_eq!((empty.contact(), empty.iter().count()), (stranger, 0));
    }
);

contract!(
    dialogs_of_a_contact_come_newest_first,
    |fx: Fixture| async move {
        let contact = fx.contact().await;
        let mut expected = Vec::new();
        for _ in 0..3 {
            // One dialog per conversation; each conversation on its own inbox (C1).
            let inbox = fx.inbox(None).await;
            let (c, _) = fx.start(inbox, contact, None).await;
            let (mut commit, dialog) = dialog_commit(&fx, &c);
            // Spread their creation times: a later one is newer.
            let n = i64::try_from(expected.len()).unwrap();
            let AggregateState::Dialog(state) = &mut commit.changes[0].state else {
                unreachable!()
            };
            state.created_at = t(100 + n);
            state.status = conversation_core::dialog::DialogStatus::Completed {
                at: t(200 + n),
                contact_rating: None,
                satisfaction_form: None,
            };
            fx.store.commit(commit).await.unwrap();
            expected.push(dialog);
        }
        expected.reverse();
        let dialogs = fx
            .store
            .dialogs_of_contact(fx.account, contact)
            .await
            .unwrap();
        let ids: Vec<DialogId> = dialogs.iter().map(|d| d.id).collect();
        assert_eq!(ids, expected);
    }
);

contract!(
    m9_messages_after_come_in_sequence_order,
    |fx: Fixture| async move {
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let (c, _) = fx.start(inbox, contact, None).await;
        let agent = AgentId::from_uuid(id());
        let mut stored = Vec::new();
        for n in 0..4 {
            stored.extend(
                send(
                    &fx,
                    vec![
                        message(&fx, c.id, None, None, &format!("q{n}"), t(10 + n)),
                        message(&fx, c.id, None, Some(agent), &format!("a{n}"), t(10 + n)),
                    ],
                )
                .await,
            );
        }
        // The first message came with the start.
        let all = fx
            .store
            .messages_after(fx.account, c.id, 0, 100)
            .await
            .unwrap();
        let sequences: Vec<u64> = all.iter().map(|m| m.sequence).collect();
        assert_eq!(sequences, (1..=9).collect::<Vec<u64>>());
        assert_eq!(
            all[1..],
            stored[..],
            "messages read back equal, times included"
        );
        // Paging by the last sequence seen visits each once.
        let mut seen = Vec::new();
        let mut after = 0;
        loop {
            let page = fx
                .store
                .messages_after(fx.account, c.id, after, 4)
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            after = last.sequence;
            seen.extend(page.iter().map(|m| m.sequence));
        }
        assert_eq!(seen, sequences);
        assert!(
            fx.store
                .messages_after(fx.account, c.id, u64::MAX, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
);

contract!(
    m6_a_message_is_found_by_its_external_id_on_its_inbox_only,
    |fx: Fixture| async move {
        let (inbox, other_inbox, contact) = (
            fx.inbox(None).await,
            fx.inbox(None).await,
            fx.contact().await,
        );
        let (commit, _) = fx.start_commit(inbox, contact, None, Some("ext-42"), t(1));
        let expected = commit.messages[0].id;
        fx.store.commit(commit).await.unwrap();
        let found = fx
            .store
            .message_by_external_id(fx.account, inbox, "ext-42")
            .await
            .unwrap()
            .expect("found");
        assert_eq!((found.id, found.sequence), (expected, 1));
        assert_eq!(
            fx.store.message(fx.account, expected).await.unwrap(),
            Some(found)
        );
        let s = &fx.store;
        assert_eq!(
            s.message_by_external_id(fx.account, other_inbox, "ext-42")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            s.message_by_external_id(fx.account, inbox, "ext-43")
                .await
                .unwrap(),
            None
        );
    }
);

contract!(
    d7_a_dialogs_view_shows_only_the_messages_written_in_it,
    |fx: Fixture| async move {
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let (c, _) = fx.start(inbox, contact, None).await;
        let (commit, dialog) = dialog_commit(&fx, &c);
        fx.store.commit(commit).await.unwrap();
        let (commit, other_dialog) = dialog_commit(&fx, &c);
        // The second dialog is completed at once so that D3 lets it be stored.
        let mut commit = commit;
        if let AggregateState::Dialog(state) = &mut commit.changes[0].state {
            state.status = conversation_core::dialog::DialogStatus::Completed {
                at: t(5),
                contact_rating: None,
                satisfaction_form: None,
            };
        }
        fx.store.commit(commit).await.unwrap();
        let agent = AgentId::from_uuid(id());
        let stored = send(
            &fx,
            vec![
                message(&fx, c.id, None, None, "general", t(10)),
                message(&fx, c.id, Some(dialog), None, "in dialog", t(11)),
                message(&fx, c.id, Some(other_dialog), None, "other dialog", t(12)),
                message(
                    &fx,
                    c.id,
                    Some(dialog),
                    Some(agent),
                    "answer in dialog",
                    t(13),
                ),
                message(&fx, c.id, None, Some(agent), "general answer", t(14)),
                message(&fx, c.id, Some(dialog), None, "thanks", t(15)),
            ],
        )
        .await;
        let in_dialog: Vec<Message> = stored
            .iter()
            .filter(|m| m.dialog == Some(dialog))
            .cloned()
            .collect();
        assert_eq!(
            fx.store
                .dialog_messages(fx.account, dialog, 0, 50)
                .await
                .unwrap(),
            in_dialog
        );
        // After a sequence, and limited.
        let after = in_dialog[0].sequence;
        assert_eq!(
            fx.store
                .dialog_messages(fx.account, dialog, after, 1)
                .await
                .unwrap(),
            in_dialog[1..2]
        );
        let other: Vec<MessageId> = fx
            .store
            .dialog_messages(fx.account, other_dialog, 0, 50)
            .await
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(other, [stored[2].id]);
    }
);

contract!(
    l8_events_after_the_last_sequence_seen_have_no_gap_or_duplicate_under_concurrent_commits,
    |fx: Fixture| async move {
        let inbox = fx.inbox(None).await;
        let writers = 6;
        let per_writer = 8;
        // Each start writes two events; a reader follows the log while the writers commit.
        let store = fx.store.clone();
        let account = fx.account;
        let reader = tokio::spawn(async move {
            let expected = u64::try_from(writers * per_writer * 2).unwrap();
            let mut seen = Vec::new();
            let mut last = 0;
            while last < expected {
                let events = store.events_after(account, last, 7).await.unwrap();
                for event in events {
                    assert_eq!(event.sequence, last + 1, "no gap, no duplicate, in order");
                    last = event.sequence;
                    seen.push(event);
                }
                tokio::task::yield_now().await;
            }
            seen
        });
        let fx = std::sync::Arc::new(fx);
        let mut tasks = Vec::new();
        for _ in 0..writers {
            let fx = fx.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..per_writer {
                    let contact = fx.contact().await;
                    fx.start(inbox, contact, None).await;
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let seen = tokio::time::timeout(std::time::Duration::from_secs(30), reader)
            .await
            .expect("the reader caught up")
            .unwrap();
        // Reading the whole log again gives the same events.
        let again = fx.store.events_after(fx.account, 0, 1000).await.unwrap();
        assert_eq!(again, seen);
    }
);

contract!(
    c12_a_conversations_timeline_is_its_events_in_order,
    |fx: Fixture| async move {
        let agent = fx.agent(5).await;
        let queue = fx.queue(&[agent]).await;
        let inbox = fx.inbox(Some(queue)).await;
        let (first, _) = fx.start(inbox, fx.contact().await, Some(queue)).await;
        let (_other, _) = fx.start(inbox, fx.contact().await, Some(queue)).await;
        let (commit, assigned) =
            command_commit(&fx, &first, 1, &ConversationCommand::RouteAssign { agent });
        fx.store.commit(commit).await.unwrap();
        let resolve = ConversationCommand::Resolve {
            by: Principal::agent(agent),
            wrap_up: None,
            closing: None,
            wrap_up_mandatory: false,
        };
        fx.store
            .commit(command_commit(&fx, &assigned, 2, &resolve).0)
            .await
            .unwrap();
        let aggregate = AggregateId::Conversation(first.id);
        let timeline = fx
            .store
            .aggregate_events(fx.account, aggregate, 0, 100)
            .await
            .unwrap();
        // Started + inbound, assigned, resolved; the other conversation's events are not here.
        assert_eq!(timeline.len(), 4);
        assert!(timeline.iter().all(|e| e.aggregate == aggregate));
        assert!(
            timeline
                .iter()
                .all(|e| e.event.conversation() == Some(first.id))
        );
        let sequences: Vec<u64> = timeline.iter().map(|e| e.sequence).collect();
        assert_eq!(sequences, [1, 2, 5, 6]);
        let all = fx.store.events_after(fx.account, 0, 100).await.unwrap();
        let from_log: Vec<_> = all
            .into_iter()
            .filter(|e| e.aggregate == aggregate)
            .collect();
        assert_eq!(timeline, from_log);
        // After a sequence, and limited.
        let rest = fx
            .store
            .aggregate_events(fx.account, aggregate, 2, 1)
            .await
            .unwrap();
        assert_eq!(rest, timeline[2..3]);
        // A dialog's id is not a conversation's timeline.
        let as_dialog = AggregateId::Dialog(DialogId::from_uuid(first.id.as_uuid()));
        assert!(
            fx.store
                .aggregate_events(fx.account, as_dialog, 0, 100)
                .await
                .unwrap()
                .is_empty()
        );
    }
);

/// Sets the agent's profile and presence columns (fixtures only).
async fn profile(
    fx: &Fixture,
    agent: AgentId,
    availability: &str,
    since: chrono::DateTime<chrono::Utc>,
    experience: i64,
    cost: i64,
) {
    exec(
        fx.store.db(),
        "UPDATE agents SET availability = $2, availability_since = $3, experience_level = $4, \
         cost_tier = $5 WHERE id = $1",
        vec![
            agent.into(),
            availability.into(),
            since.into(),
            experience.into(),
            cost.into(),
        ],
    )
    .await;
}

contract!(
    r2_candidates_carry_availability_load_capacity_experience_cost_and_idle_time,
    |fx: Fixture| async move {
        let (amal, boris, chen) = (fx.agent(3).await, fx.agent(5).await, fx.agent(2).await);
        let outsider = fx.agent(5).await;
        let queue = fx.queue(&[boris, amal, chen]).await;
        let _elsewhere = fx.queue(&[outsider]).await;
        profile(&fx, amal, "available", t(5), 4, 2).await;
        profile(&fx, boris, "busy", t(7), 1, 1).await;
        profile(&fx, chen, "rona", t(2), 9, 3).await;
        let inbox = fx.inbox(Some(queue)).await;
        // Amal: one assigned (at t(10)) and one outstanding offer; Boris: one assigned.
        let mut started = Vec::new();
        for _ in 0..3 {
            started.push(fx.start(inbox, fx.contact().await, Some(queue)).await.0);
        }
        let commands = [
            (ConversationCommand::RouteAssign { agent: amal }, 0),
            (
                ConversationCommand::RouteOffer {
                    agent: amal,
                    deadline: t(40),
                },
                1,
            ),
            (ConversationCommand::RouteAssign { agent: boris }, 2),
        ];
        for (command, n) in commands {
            fx.store
                .commit(command_commit(&fx, &started[n], 1, &command).0)
                .await
                .unwrap();
        }
        let candidates = fx.store.candidates(fx.account, queue).await.unwrap();
        let agents: Vec<AgentId> = candidates.iter().map(|c| c.agent).collect();
        assert_eq!(agents, [boris, amal, chen], "in the queue's order");
        let (b, a, c) = (candidates[0], candidates[1], candidates[2]);
        assert_eq!(a.availability, Availability::Available);
        assert_eq!(
            a.load,
            AgentLoad {
                assigned_open: 1,
                outstanding_offers: 1,
                capacity: 3
            }
        );
        assert_eq!((a.experience_level, a.cost_tier), (4, 2));
        // Idle since the later of becoming available (t5) and the last assignment (t10).
        assert_eq!(a.idle_since, t(10));
        assert_eq!(b.availability, Availability::Busy);
        assert_eq!(
            b.load,
            AgentLoad {
                assigned_open: 1,
                outstanding_offers: 0,
                capacity: 5
            }
        );
        assert_eq!(b.idle_since, t(10));
        assert_eq!(c.availability, Availability::Rona);
        assert_eq!(c.load, AgentLoad::idle(2));
        assert_eq!(
            (c.experience_level, c.cost_tier, c.idle_since),
            (9, 3, t(2))
        );
        // The load is exactly the counter the commit enforces capacity against (R2).
        for candidate in &candidates {
            assert_eq!(
                i64::from(candidate.load.load()),
                fx.load_of(candidate.agent).await
            );
        }
        // An agent who became available after their last assignment is idle since then.
        profile(&fx, boris, "available", t(30), 1, 1).await;
        let candidates = fx.store.candidates(fx.account, queue).await.unwrap();
        assert_eq!(candidates[0].idle_since, t(30));
        assert!(
            fx.store
                .candidates(fx.account, QueueId::from_uuid(id()))
                .await
                .unwrap()
                .is_empty()
        );
    }
);

contract!(
    r5_waiting_conversations_come_oldest_first_by_queued_since_then_id,
    |fx: Fixture| async move {
        let queue = fx.queue(&[]).await;
        let other_queue = fx.queue(&[]).await;
        let inbox = InboxId::from_uuid(id());
        let waiting = |since: i64, queue: QueueId| ConversationState::Open {
            assignment: Assignment::Waiting {
                queue,
                since: t(since),
            },
        };
        let mut expected = Vec::new();
        // Ties on `since` are broken by id.
        for since in [30, 10, 20, 10, 20] {
            let c = conversation(fx.account, inbox, waiting(since, queue), t(1));
            put(&fx, &c).await;
            expected.push((since, c.id));
        }
        // Not waiting in this queue: elsewhere, offered (its old place is kept in the state
        // only), assigned, resolved.
        let agent = AgentId::from_uuid(id());
        for state in [
            waiting(1, other_queue),
            ConversationState::Open {
                assignment: Assignment::Offered {
                    queue: Some(queue),
                    agent,
                    offered_at: t(2),
                    queued_since: t(1),
                    deadline: t(32),
                },
            },
            ConversationState::Open {
                assignment: Assignment::Assigned {
                    queue: Some(queue),
                    agent,
                    since: t(2),
                },
            },
            ConversationState::Resolved {
                at: t(3),
                queue: Some(queue),
                agent: Some(agent),
            },
        ] {
            put(&fx, &conversation(fx.account, inbox, state, t(1))).await;
        }
        expected.sort_unstable();
        let ids: Vec<ConversationId> = expected.iter().map(|(_, id)| *id).collect();
        let got = fx.store.waiting(fx.account, queue, 100).await.unwrap();
        assert_eq!(got.iter().map(|c| c.id).collect::<Vec<_>>(), ids);
        let first_two = fx.store.waiting(fx.account, queue, 2).await.unwrap();
        assert_eq!(first_two.iter().map(|c| c.id).collect::<Vec<_>>(), ids[..2]);
        assert_eq!(
            fx.store
                .waiting(fx.account, other_queue, 100)
                .await
                .unwrap()
                .len(),
            1
        );
    }
);

contract!(
    c3_latest_conversation_is_the_live_one_else_the_newest_closed_one,
    |fx: Fixture| async move {
        use conversation_core::ports::ConversationStore;
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        assert!(
            fx.store
                .latest_conversation(fx.account, inbox, contact)
                .await
                .unwrap()
                .is_none()
        );
        let agent = fx.agent(5).await;
        let (first, _) = fx.start(inbox, contact, None).await;
        assert_eq!(
            fx.store
                .latest_conversation(fx.account, inbox, contact)
                .await
                .unwrap()
                .unwrap()
                .value
                .id,
            first.id
        );
        // Resolve it: still the latest, now closed, for the next message to reopen (C3).
        let (assign, assigned) = crate::commit::command_commit(
            &fx,
            &first,
            1,
            &conversation_core::conversation::ConversationCommand::RouteAssign { agent },
        );
        fx.store.commit(assign).await.unwrap();
        let resolve = conversation_core::conversation::ConversationCommand::Resolve {
            by: conversation_core::actor::Principal::agent(agent),
            wrap_up: None,
            closing: None,
            wrap_up_mandatory: false,
        };
        fx.store
            .commit(crate::commit::command_commit(&fx, &assigned, 2, &resolve).0)
            .await
            .unwrap();
        let latest = fx
            .store
            .latest_conversation(fx.account, inbox, contact)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (latest.value.id, latest.value.is_closed(), latest.version),
            (first.id, true, 3)
        );
        // Another account sees nothing (A1).
        assert!(
            fx.store
                .latest_conversation(
                    conversation_core::ids::AccountId::from_uuid(crate::support::id()),
                    inbox,
                    contact
                )
                .await
                .unwrap()
                .is_none()
        );
    }
);
