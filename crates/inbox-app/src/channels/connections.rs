//! H1, A4: connecting an inbox to its provider (owners and admins). The inbox's adapter checks
//! the settings and secrets before anything is saved (`invalid_connection`, 422, with the
//! adapter's sentence). Secrets are never shown back: a reader sees the setting values and only
//! the *names* of the secrets that are set.
//!
//! Saving replaces the settings; secrets are merged: a secret given replaces the stored one, a
//! secret given empty removes it, a secret not given keeps its stored value (so an admin can
//! change a setting without typing the token again).

use std::collections::BTreeMap;

use conversation_core::DomainError;
use conversation_core::Timestamp;
use conversation_core::channel::ChannelKind;
use conversation_core::ids::InboxId;
use conversation_core::ports::{ChannelConnection, StoredConnection};

use crate::app::App;
use crate::caller::Caller;
use crate::directory::manager_of;
use crate::error::{AppError, AppResult};

/// A connection as an admin submits it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SaveConnection {
    /// The settings, replacing the stored ones.
    pub settings: BTreeMap<String, String>,
    /// Secrets to set (an empty value removes one); those not named keep their value.
    pub secrets: BTreeMap<String, String>,
}

/// A connection as the API shows it: never a secret's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionView {
    /// The inbox.
    pub inbox: InboxId,
    /// Its channel kind.
    pub kind: ChannelKind,
    /// The settings.
    pub settings: BTreeMap<String, String>,
    /// The names of the secrets that are set.
    pub secrets_set: Vec<String>,
    /// The path of the inbox's webhook, to give the provider.
    pub webhook_path: String,
    /// When it was last saved.
    pub updated_at: Timestamp,
}

impl ConnectionView {
    fn of(stored: &StoredConnection) -> Self {
        Self {
            inbox: stored.inbox,
            kind: stored.kind,
            settings: stored.connection.settings.clone(),
            secrets_set: stored
                .connection
                .secrets
                .iter()
                .filter(|(_, value)| !value.is_empty())
                .map(|(name, _)| name.clone())
                .collect(),
            webhook_path: super::webhook_path(stored.inbox),
            updated_at: stored.updated_at,
        }
    }
}

impl App {
    /// H1: connects an inbox to its provider, after its adapter checked the connection.
    ///
    /// # Errors
    /// `forbidden` (agents); `not_found` for an inbox of another account (S1);
    /// `capability_unsupported` when no adapter serves the inbox's kind (web chat);
    /// `invalid_connection` with the adapter's sentence.
    pub async fn save_connection(
        &self,
        caller: &Caller,
        inbox: InboxId,
        save: SaveConnection,
    ) -> AppResult<ConnectionView> {
        let (account, _) = manager_of(caller, "connect inboxes")?;
        let inbox = self
            .store
            .inbox(account, inbox)
            .await?
            .ok_or(DomainError::NotFound)?;
        let adapter =
            self.adapters
                .get(inbox.channel)
                .ok_or(DomainError::CapabilityUnsupported {
                    capability: "channel connection",
                })?;
        let mut secrets = self
            .store
            .connection(account, inbox.id)
            .await?
            .map(|stored| stored.connection.secrets)
            .unwrap_or_default();
        for (name, value) in save.secrets {
            if value.is_empty() {
                secrets.remove(&name);
            } else {
                secrets.insert(name, value);
            }
        }
        let connection = ChannelConnection {
            settings: save.settings,
            secrets,
        };
        adapter
            .check_connection(&connection)
            .map_err(AppError::InvalidConnection)?;
        let stored = StoredConnection {
            account,
            inbox: inbox.id,
            kind: inbox.channel,
            connection,
            updated_at: self.now(),
        };
        self.store.save_connection(&stored).await?;
        Ok(ConnectionView::of(&stored))
    }

    /// H1: an inbox's connection, secrets by name only (owners and admins).
    ///
    /// # Errors
    /// `forbidden` (agents); `not_found` for an inbox of another account or one not connected.
    pub async fn connection(&self, caller: &Caller, inbox: InboxId) -> AppResult<ConnectionView> {
        let (account, _) = manager_of(caller, "read inbox connections")?;
        let stored = self
            .store
            .connection(account, inbox)
            .await?
            .ok_or(DomainError::NotFound)?;
        Ok(ConnectionView::of(&stored))
    }
}
