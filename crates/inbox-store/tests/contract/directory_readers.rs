//! The directory readers the administration use cases need: an agent's presence with its
//! version (R1), inboxes including deleted ones and the live conversations that depend on an
//! inbox or a queue (C7), a contact's conversations across merges and saving several contacts
//! at once (K1, K2). Every reader is scoped to the account (A1).

use conversation_core::DomainEvent;
use conversation_core::conversation::{
    Conversation, ConversationCommand, InterruptCause, LoadChange,
};
use conversation_core::entities::{Availability, ChannelIdentity, Contact};
use conversation_core::ids::{AgentId, ContactId, ConversationId};
use conversation_core::ports::{
    AggregateChange, AggregateState, Commit, CommitStore, Dependency, DirectoryStore,
    ExpectedVersion, Versioned,
};
use conversation_core::presence::{AgentPresence, PresenceCommand};

use crate::directory::{code, other_account, saved_agent};
use crate::support::{Fixture, contract, t};

fn contact_value(fx: &Fixture, id: ContactId, identities: Vec<ChannelIdentity>) -> Contact {
    Contact {
        id,
        account: fx.account,
        name: Some("Customer".into()),
        email: None,
        phone: None,
        location: None,
        notes: String::new(),
        attributes: Default::default(),
        responsible_agent: None,
        identities,
        merged_into: None,
        created_at: t(0),
    }
}

/// The ids of conversations, sorted.
fn ids(list: Vec<Versioned<Conversation>>) -> Vec<ConversationId> {
    let mut ids: Vec<ConversationId> = list.into_iter().map(|c| c.value.id).collect();
    ids.sort();
    ids
}

contract!(
    r1_agent_presence_reads_availability_since_and_version,
    |fx: Fixture| async move {
        let agent = saved_agent(&fx, fx.account, "Ann").await;
        let fresh = fx
            .store
            .agent_presence(fx.account, agent.id)
            .await
            .unwrap()
            .expect("the agent's presence");
        assert_eq!(fresh.version, 0, "no change yet");
        assert_eq!(fresh.value.availability, Availability::Offline);

        let events = fresh
            .value
            .decide(PresenceCommand::SetAvailable, t(5))
            .unwrap();
        let mut after = fresh.value;
        for event in &events {
            after.apply(event);
        }
        let mut commit = Commit::new(fx.account);
        commit.changes.push(AggregateChange {
            expected: ExpectedVersion::New,
            state: AggregateState::Agent(after),
            events: events.into_iter().map(DomainEvent::Presence).collect(),
        });
        fx.store.commit(commit).await.unwrap();

        let read = fx
            .store
            .agent_presence(fx.account, agent.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.version, 1);
        assert_eq!(
            read.value,
            AgentPresence {
                agent: agent.id,
                availability: Availability::Available,
                since: t(5),
            }
        );

        // A1: another account does not see it; an unknown agent is absent.
        let other = other_account(&fx).await;
        assert!(
            fx.store
                .agent_presence(other, agent.id)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            fx.store
                .agent_presence(fx.account, AgentId::from_u128(7))
                .await
                .unwrap()
                .is_none()
        );
    }
);

contract!(
    c7_a_deleted_inbox_is_still_read_for_its_conversations,
    |fx: Fixture| async move {
        let inbox = fx.inbox(None).await;
        assert!(
            fx.store
                .delete_inbox(fx.account, inbox, t(9))
                .await
                .unwrap()
        );
        assert!(fx.store.inbox(fx.account, inbox).await.unwrap().is_none());
        let kept = fx
            .store
            .inbox_with_deleted(fx.account, inbox)
            .await
            .unwrap()
            .expect("kept");
        assert_eq!(kept.id, inbox);
        let other = other_account(&fx).await;
        assert!(
            fx.store
                .inbox_with_deleted(other, inbox)
                .await
                .unwrap()
                .is_none()
        );
    }
);

contract!(
    c7_live_conversations_of_an_inbox_or_a_queue,
    |fx: Fixture| async move {
        let agent = fx.agent(5).await;
        let queue = fx.queue(&[agent]).await;
        let inbox = fx.inbox(Some(queue)).await;
        let quiet_inbox = fx.inbox(None).await;
        let (first, _) = fx.start(inbox, fx.contact().await, Some(queue)).await;
        let (second, _) = fx.start(inbox, fx.contact().await, Some(queue)).await;
        let (elsewhere, _) = fx.start(quiet_inbox, fx.contact().await, None).await;

        let of_inbox = fx
            .store
            .live_conversations_of(fx.account, Dependency::Inbox(inbox))
            .await
            .unwrap();
        assert_eq!(of_inbox.len(), 2);
        assert!(of_inbox.contains(&first.id) && of_inbox.contains(&second.id));
        let of_queue = fx
            .store
            .live_conversations_of(fx.account, Dependency::Queue(queue))
            .await
            .unwrap();
        assert_eq!(of_queue.len(), 2);
        assert_eq!(
            fx.store
                .live_conversations_of(fx.account, Dependency::Inbox(quiet_inbox))
                .await
                .unwrap(),
            vec![elsewhere.id]
        );

        // An interrupted conversation is no longer listed: interrupting is done once.
        let events = first
            .decide(
                &ConversationCommand::Interrupt {
                    cause: InterruptCause::QueueDeleted,
                },
                t(10),
            )
            .unwrap();
        let mut after = first.clone();
        for event in &events {
            after.apply(event);
        }
        let mut commit = Commit::new(fx.account);
        commit.changes.push(AggregateChange {
            expected: ExpectedVersion::Exactly(1),
            state: AggregateState::Conversation {
                conversation: Box::new(after),
                load: LoadChange::default(),
            },
            events: events.into_iter().map(DomainEvent::Conversation).collect(),
        });
        fx.store.commit(commit).await.unwrap();
        assert_eq!(
            fx.store
                .live_conversations_of(fx.account, Dependency::Queue(queue))
                .await
                .unwrap(),
            vec![second.id]
        );

        // A1: nothing of another account.
        let other = other_account(&fx).await;
        assert!(
            fx.store
                .live_conversations_of(other, Dependency::Inbox(inbox))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            fx.store
                .live_conversations_of(other, Dependency::Queue(queue))
                .await
                .unwrap()
                .is_empty()
        );
    }
);

contract!(
    k2_a_contacts_conversations_include_those_of_merged_contacts,
    |fx: Fixture| async move {
        let inbox = fx.inbox(None).await;
        let other_inbox = fx.inbox(None).await;
        let survivor = fx.contact().await;
        let merged = fx.contact().await;
        let merged_earlier = fx.contact().await;
        let (own, _) = fx.start(inbox, survivor, None).await;
        let (theirs, _) = fx.start(other_inbox, merged, None).await;
        let (older, _) = fx.start(inbox, merged_earlier, None).await;

        let mut m = fx.store.contact(fx.account, merged).await.unwrap().unwrap();
        m.merged_into = Some(survivor);
        let mut e = fx
            .store
            .contact(fx.account, merged_earlier)
            .await
            .unwrap()
            .unwrap();
        e.merged_into = Some(merged);
        fx.store.save_contacts(&[m, e]).await.unwrap();

        let mut expected = vec![own.id, theirs.id, older.id];
        expected.sort();
        assert_eq!(
            ids(fx
                .store
                .contact_conversations(fx.account, survivor)
                .await
                .unwrap()),
            expected
        );
        let mut of_merged = vec![theirs.id, older.id];
        of_merged.sort();
        assert_eq!(
            ids(fx
                .store
                .contact_conversations(fx.account, merged)
                .await
                .unwrap()),
            of_merged
        );
        let other = other_account(&fx).await;
        assert!(
            fx.store
                .contact_conversations(other, survivor)
                .await
                .unwrap()
                .is_empty()
        );
    }
);

contract!(
    k2_save_contacts_moves_an_identity_in_one_transaction,
    |fx: Fixture| async move {
        let inbox = fx.inbox(None).await;
        let identity = ChannelIdentity {
            inbox,
            external_id: "+3612345678".into(),
        };
        let from = ContactId::from_uuid(crate::support::id());
        let to = ContactId::from_uuid(crate::support::id());
        fx.store
            .save_contacts(&[
                contact_value(&fx, from, vec![identity.clone()]),
                contact_value(&fx, to, Vec::new()),
            ])
            .await
            .unwrap();

        // The survivor cannot take the identity before the merged contact gives it up.
        let error = fx
            .store
            .save_contacts(&[contact_value(&fx, to, vec![identity.clone()])])
            .await
            .unwrap_err();
        assert_eq!(code(&error), "conflict");

        // All or nothing: a failing second save undoes the first.
        let mut given_up = contact_value(&fx, from, Vec::new());
        given_up.merged_into = Some(to);
        let mut bad = contact_value(&fx, to, vec![identity.clone()]);
        bad.responsible_agent = Some(AgentId::from_u128(99));
        let error = fx
            .store
            .save_contacts(&[given_up.clone(), bad])
            .await
            .unwrap_err();
        assert_eq!(code(&error), "not_found");
        let unchanged = fx.store.contact(fx.account, from).await.unwrap().unwrap();
        assert_eq!(unchanged.identities, vec![identity.clone()]);
        assert_eq!(unchanged.merged_into, None);

        fx.store
            .save_contacts(&[given_up, contact_value(&fx, to, vec![identity.clone()])])
            .await
            .unwrap();
        let found = fx
            .store
            .contact_by_identity(fx.account, inbox, "+3612345678")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, to);
    }
);
