//! `FileStore` and the files of a `Commit` (M7): a file is stored in the transaction of the
//! message that carries it, or not at all; another account's key reads nothing (A1, S1); a
//! deleted message loses its file (M5).

use std::sync::Arc;

use conversation_core::actor::Actor;
use conversation_core::conversation::Conversation;
use conversation_core::ids::{AgentId, MessageId};
use conversation_core::message::{
    Attachment, Direction, Message, MessageKind, MessageOrigin, NewMessage, Tombstone,
};
use conversation_core::ports::{
    Commit, CommitStore, FileStore, MessageStore, MessageUpdate, StoreError, StoredFile,
};

use crate::readers::other_account;
use crate::support::{Fixture, contract, id, t};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-and-some-bytes";

/// An agent's outbound media message in the conversation with its file, as a commit (not yet
/// written), with the storage key.
fn media_commit(
    fx: &Fixture,
    conversation: &Conversation,
    client_id: Option<&str>,
) -> (Commit, MessageId, String) {
    let message = MessageId::from_uuid(id());
    let key = id().to_string();
    let attachment = Attachment {
        storage_key: key.clone(),
        file_name: "photo.png".into(),
        content_type: "image/png".into(),
        size_bytes: u64::try_from(PNG.len()).unwrap(),
    };
    let made = Message::create(
        MessageOrigin {
            id: message,
            account: fx.account,
            conversation: conversation.id,
            dialog: None,
            sequence: 0,
        },
        NewMessage {
            kind: MessageKind::Media,
            direction: Direction::Outbound,
            sender: Actor::Agent(AgentId::from_uuid(id())),
            body: "the photo".into(),
            quote: None,
            attachment: Some(attachment.clone()),
            client_id: client_id.map(str::to_owned),
            external_id: None,
        },
        t(5),
    )
    .unwrap();
    let mut commit = Commit::new(fx.account);
    commit.messages.push(made);
    commit.files.push(StoredFile {
        message,
        attachment,
        bytes: Arc::from(PNG),
    });
    (commit, message, key)
}

async fn files(fx: &Fixture) -> i64 {
    fx.store
        .db()
        .fetch_optional(
            "SELECT COUNT(*) AS n FROM attachments WHERE account_id = $1",
            &[fx.account.into()],
        )
        .await
        .unwrap()
        .unwrap()
        .int("n")
        .unwrap()
}

contract!(
    m7_a_file_is_stored_with_its_message_and_read_back_by_its_key,
    |fx: Fixture| async move {
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let (conversation, _) = fx.start(inbox, contact, None).await;
        let (commit, message, key) = media_commit(&fx, &conversation, None);
        fx.store.commit(commit).await.unwrap();

        let stored = fx.store.file(fx.account, &key).await.unwrap().unwrap();
        assert_eq!(stored.message, message);
        assert_eq!(&*stored.bytes, PNG);
        assert_eq!(stored.attachment.file_name, "photo.png");
        assert_eq!(stored.attachment.content_type, "image/png");
        assert_eq!(
            stored.attachment.size_bytes,
            u64::try_from(PNG.len()).unwrap()
        );
        let read = fx
            .store
            .message(fx.account, message)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.attachment.as_ref(), Some(&stored.attachment));

        assert!(
            fx.store
                .file(fx.account, "no-such-key")
                .await
                .unwrap()
                .is_none()
        );
    }
);

contract!(
    m7_a_refused_commit_stores_no_file,
    |fx: Fixture| async move {
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let (conversation, _) = fx.start(inbox, contact, None).await;
        let (first, stored, _) = media_commit(&fx, &conversation, Some("c-1"));
        fx.store.commit(first).await.unwrap();

        // M8: the retry is refused as a duplicate, and its file is not written either.
        let (retry, _, retry_key) = media_commit(&fx, &conversation, Some("c-1"));
        let err = fx.store.commit(retry).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Duplicate { existing } if existing == stored),
            "{err:?}"
        );
        assert!(
            fx.store
                .file(fx.account, &retry_key)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(files(&fx).await, 1);

        // Never a file without its message in the same commit.
        let (mut orphan, _, orphan_key) = media_commit(&fx, &conversation, None);
        orphan.messages.clear();
        assert!(fx.store.commit(orphan).await.is_err());
        assert!(
            fx.store
                .file(fx.account, &orphan_key)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(files(&fx).await, 1);
    }
);

contract!(
    s1_another_accounts_key_reads_nothing,
    |fx: Fixture| async move {
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let (conversation, _) = fx.start(inbox, contact, None).await;
        let (commit, _, key) = media_commit(&fx, &conversation, None);
        fx.store.commit(commit).await.unwrap();
        let other = other_account(&fx).await;
        assert!(fx.store.file(other, &key).await.unwrap().is_none());
        assert!(fx.store.file(fx.account, &key).await.unwrap().is_some());
    }
);

contract!(
    m5_a_deleted_message_loses_its_file_in_the_same_commit,
    |fx: Fixture| async move {
        let (inbox, contact) = (fx.inbox(None).await, fx.contact().await);
        let (conversation, _) = fx.start(inbox, contact, None).await;
        let (commit, message, key) = media_commit(&fx, &conversation, None);
        fx.store.commit(commit).await.unwrap();
        let (other, _, other_key) = media_commit(&fx, &conversation, None);
        fx.store.commit(other).await.unwrap();

        let mut delete = Commit::new(fx.account);
        delete.message_updates.push(MessageUpdate::Deleted {
            message,
            tombstone: Tombstone {
                deleted_by: AgentId::from_uuid(id()),
                deleted_at: t(9),
            },
        });
        fx.store.commit(delete).await.unwrap();

        assert!(fx.store.file(fx.account, &key).await.unwrap().is_none());
        let read = fx
            .store
            .message(fx.account, message)
            .await
            .unwrap()
            .unwrap();
        assert!(read.attachment.is_none() && read.body.is_empty() && read.is_deleted());
        assert!(
            fx.store
                .file(fx.account, &other_key)
                .await
                .unwrap()
                .is_some(),
            "only the deleted message's file goes"
        );
    }
);
