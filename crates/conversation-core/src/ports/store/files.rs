//! M7: the bytes of attachments, kept by the store so that every process sharing a database
//! serves the same files. A file is written by the [`Commit`](super::Commit) that adds the
//! message carrying it (never one without the other) and removed by the commit that deletes
//! that message (M5). It is read back by its account and generated storage key; another
//! account's key reads as absent (A1, S1).

use std::sync::Arc;

use async_trait::async_trait;

use super::commit::StoreError;
use crate::ids::{AccountId, MessageId};
use crate::message::Attachment;

/// A message's file with its bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// The message that carries it.
    pub message: MessageId,
    /// Its metadata, as on the message (storage key, sanitized name, allowed type, size).
    pub attachment: Attachment,
    /// Its bytes, shared so that retrying a commit copies nothing.
    pub bytes: Arc<[u8]>,
}

impl std::fmt::Debug for StoredFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredFile")
            .field("message", &self.message)
            .field("attachment", &self.attachment)
            .field("bytes", &format_args!("{} bytes", self.bytes.len()))
            .finish()
    }
}

/// Reads attachments' files.
#[async_trait]
pub trait FileStore: Send + Sync {
    /// The file stored under `storage_key` in the account, if any.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn file(
        &self,
        account: AccountId,
        storage_key: &str,
    ) -> Result<Option<StoredFile>, StoreError>;
}
