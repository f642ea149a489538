//! How inboxes are connected to their providers (H1, H2, A4): one [`StoredConnection`] per
//! inbox, with the settings and secrets its channel adapter reads. Secrets are stored here and
//! read by the use cases that call the adapter; no reader of the API ever gets them back.

use async_trait::async_trait;

use super::commit::StoreError;
use crate::Timestamp;
use crate::channel::ChannelKind;
use crate::ids::{AccountId, InboxId};
use crate::ports::ChannelConnection;

/// An inbox's connection as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredConnection {
    /// The account.
    pub account: AccountId,
    /// The inbox it connects.
    pub inbox: InboxId,
    /// The inbox's channel kind when it was saved (the adapter that checked it).
    pub kind: ChannelKind,
    /// Settings and secrets.
    pub connection: ChannelConnection,
    /// When it was last saved.
    pub updated_at: Timestamp,
}

/// Saves and reads inbox connections.
#[async_trait]
pub trait ConnectionStore: Send + Sync {
    /// Saves (or replaces) the connection of an inbox of the account.
    ///
    /// # Errors
    /// `not_found` when the inbox is not one of the account; storage failures.
    async fn save_connection(&self, connection: &StoredConnection) -> Result<(), StoreError>;

    /// The connection of an inbox of the account, if it has one (`None` for an inbox of
    /// another account, A1).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn connection(
        &self,
        account: AccountId,
        inbox: InboxId,
    ) -> Result<Option<StoredConnection>, StoreError>;
}
