//! `FileStore` (M7): attachments' bytes in the `attachments` table, read by account and
//! generated storage key (its primary key), so another account's key reads as absent (A1, S1).
//! Files are written and deleted only inside commits (`commit.rs`), with their message.

use std::sync::Arc;

use async_trait::async_trait;
use conversation_core::ids::{AccountId, MessageId};
use conversation_core::message::{Attachment, Message};
use conversation_core::ports::{FileStore, StoreError, StoredFile};

use crate::error::{OrStoreError, StoreResult};
use crate::open::SqlStore;
use crate::sql::{Tx, args};

#[async_trait]
impl FileStore for SqlStore {
    /// By primary key `(account_id, storage_key)`.
    async fn file(
        &self,
        account: AccountId,
        storage_key: &str,
    ) -> Result<Option<StoredFile>, StoreError> {
        let Some(row) = self
            .db
            .fetch_optional(
                "SELECT message_id, content_type, file_name, size_bytes, bytes FROM attachments \
                 WHERE account_id = $1 AND storage_key = $2",
                &args![account, storage_key],
            )
            .await
            .store()?
        else {
            return Ok(None);
        };
        Ok(Some(StoredFile {
            message: MessageId::from_uuid(row.uuid("message_id").store()?),
            attachment: Attachment {
                storage_key: storage_key.to_owned(),
                file_name: row.text("file_name").store()?,
                content_type: row.text("content_type").store()?,
                size_bytes: row.count("size_bytes").store()?,
            },
            bytes: Arc::from(row.bytes("bytes").store()?),
        }))
    }
}

/// M7: writes the files of a commit, after its messages: each file must belong to a message
/// of the same commit that names it as its attachment (never a file without its message).
pub(crate) async fn write_files(
    tx: &mut Tx,
    account: AccountId,
    files: &[StoredFile],
    messages: &[Message],
) -> StoreResult<()> {
    for file in files {
        let key = file.attachment.storage_key.as_str();
        let message = messages
            .iter()
            .find(|m| {
                m.id == file.message && m.attachment.as_ref().is_some_and(|a| a.storage_key == key)
            })
            .ok_or_else(|| {
                StoreError::Internal("a file without its message in the commit".into())
            })?;
        let size =
            i64::try_from(file.bytes.len()).map_err(|e| StoreError::Internal(Box::new(e)))?;
        tx.execute(
            "INSERT INTO attachments (account_id, storage_key, message_id, content_type, file_name, \
             size_bytes, bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &args![
                account,
                key,
                file.message,
                file.attachment.content_type.as_str(),
                file.attachment.file_name.as_str(),
                size,
                Arc::clone(&file.bytes),
                message.created_at
            ],
        )
        .await
        .store()?;
    }
    Ok(())
}

/// M5: removes the file of a deleted message.
pub(crate) async fn delete_files_of(
    tx: &mut Tx,
    account: AccountId,
    message: MessageId,
) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM attachments WHERE account_id = $1 AND message_id = $2",
        &args![account, message],
    )
    .await
    .store()?;
    Ok(())
}
