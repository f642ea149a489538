//! `HeldStore` and the commit's `hold` and `release` steps (D8): a message is held only while
//! its dialog is active, read back in the order held, released once, and found by client id
//! (M8), released or not.

use conversation_core::DomainEvent;
use conversation_core::dialog::{AutomatedSource, Dialog, DialogCommand};
use conversation_core::ids::{AgentId, DialogId, MessageId};
use conversation_core::ports::{
    AggregateChange, AggregateState, Commit, CommitStore, DialogStore, ExpectedVersion,
    HeldMessage, HeldRelease, HeldStore, StoreError,
};

use crate::commit::dialog_commit;
use crate::support::{Fixture, contract, id, t};

fn held(
    fx: &Fixture,
    conversation: &conversation_core::conversation::Conversation,
    dialog: DialogId,
    body: &str,
    at: i64,
) -> HeldMessage {
    HeldMessage {
        id: MessageId::from_uuid(id()),
        account: fx.account,
        contact: conversation.contact,
        conversation: conversation.id,
        dialog,
        source: AutomatedSource::Flow,
        body: body.into(),
        client_id: Some(format!("client-{body}")),
        held_at: t(at),
        released_at: None,
    }
}

async fn hold(fx: &Fixture, message: HeldMessage) -> Result<(), StoreError> {
    let mut commit = Commit::new(fx.account);
    commit.hold.push(message);
    fx.store.commit(commit).await.map(|_| ())
}

fn is_conflict(result: &Result<(), StoreError>) -> bool {
    matches!(result, Err(StoreError::Domain(e)) if e.code() == "conflict")
}

/// Pauses the stored dialog.
async fn pause(fx: &Fixture, dialog: DialogId) {
    let stored = fx.store.dialog(fx.account, dialog).await.unwrap().unwrap();
    let mut after: Dialog = stored.value.clone();
    let events = after
        .decide(
            DialogCommand::Pause {
                by: AgentId::from_uuid(id()),
            },
            t(50),
        )
        .unwrap();
    for event in &events {
        after.apply(event);
    }
    let mut commit = Commit::new(fx.account);
    commit.changes.push(AggregateChange {
        expected: ExpectedVersion::Exactly(stored.version),
        state: AggregateState::Dialog(Box::new(after.clone())),
        events: events
            .into_iter()
            .map(|event| DomainEvent::Dialog {
                dialog,
                conversation: after.conversation,
                event,
            })
            .collect(),
    });
    fx.store.commit(commit).await.unwrap();
}

contract!(
    d8_messages_are_held_while_the_dialog_is_active_and_read_in_order,
    |fx: Fixture| async move {
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let (conversation, _) = fx.start(inbox, contact, None).await;
        let (commit, dialog) = dialog_commit(&fx, &conversation);
        fx.store.commit(commit).await.unwrap();
        let second = held(&fx, &conversation, dialog, "second", 20);
        let first = held(&fx, &conversation, dialog, "first", 10);
        hold(&fx, second.clone()).await.unwrap();
        hold(&fx, first.clone()).await.unwrap();
        // spec: D8: in the order held.
        let waiting = fx
            .store
            .held_messages(fx.account, contact, 10)
            .await
            .unwrap();
        assert_eq!(waiting, [first.clone(), second.clone()]);
        // M8: a client id is held once per conversation.
        let mut again = held(&fx, &conversation, dialog, "first", 30);
        again.client_id.clone_from(&first.client_id);
        assert!(is_conflict(&hold(&fx, again).await));
        let found = fx
            .store
            .held_message_by_client_id(fx.account, conversation.id, "client-first")
            .await
            .unwrap();
        assert_eq!(found, Some(first.clone()));

        // spec: D8: once the dialog is paused, nothing more is held.
        pause(&fx, dialog).await;
        assert!(is_conflict(
            &hold(&fx, held(&fx, &conversation, dialog, "late", 60)).await
        ));

        // Released once: a second release of the same row is a conflict, nothing written.
        let mut commit = Commit::new(fx.account);
        commit.release.push(HeldRelease {
            id: first.id,
            at: t(70),
        });
        fx.store.commit(commit.clone()).await.unwrap();
        let second_release = fx.store.commit(commit).await.map(|_| ());
        assert!(is_conflict(&second_release));
        let waiting = fx
            .store
            .held_messages(fx.account, contact, 10)
            .await
            .unwrap();
        assert_eq!(waiting, [second]);
        let found = fx
            .store
            .held_message_by_client_id(fx.account, conversation.id, "client-first")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.released_at, Some(t(70)));
        // A1: another account reads nothing.
        let other = conversation_core::ids::AccountId::from_uuid(id());
        assert!(
            fx.store
                .held_messages(other, contact, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
);
