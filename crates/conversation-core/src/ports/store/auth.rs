//! Credentials, sessions and API tokens (A3, S9). The store keeps only password hashes and
//! token hashes: a token itself is never stored, so a leaked database grants no session.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::commit::StoreError;
use crate::Timestamp;
use crate::ids::{AccountId, AgentId, ContactId, InboxId};

/// Whom a session authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SessionSubject {
    /// An agent signed in with email and password.
    Agent {
        /// The agent.
        agent: AgentId,
    },
    /// A widget visitor: bound to one contact on one inbox (A3, S5).
    Visitor {
        /// The contact.
        contact: ContactId,
        /// The inbox.
        inbox: InboxId,
    },
}

/// A bearer session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Its id.
    pub id: Uuid,
    /// The account.
    pub account: AccountId,
    /// Whom it authenticates.
    pub subject: SessionSubject,
    /// The hash of its token (the token is never stored).
    pub token_hash: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

/// An integration's API token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    /// Its id.
    pub id: Uuid,
    /// The account.
    pub account: AccountId,
    /// A name to recognise it by.
    pub name: String,
    /// The hash of the token.
    pub token_hash: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

/// Keeps credentials.
#[async_trait]
pub trait AuthStore: Send + Sync {
    /// Sets an agent's password hash (S9: the caller then revokes their sessions).
    ///
    /// # Errors
    /// `not_found` when the agent does not exist in the account.
    async fn set_password_hash(
        &self,
        account: AccountId,
        agent: AgentId,
        hash: &str,
    ) -> Result<(), StoreError>;

    /// An agent's password hash, if one was set.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn password_hash(
        &self,
        account: AccountId,
        agent: AgentId,
    ) -> Result<Option<String>, StoreError>;

    /// Stores a new session.
    ///
    /// # Errors
    /// `conflict` for a token hash already in use.
    async fn create_session(&self, session: &Session) -> Result<(), StoreError>;

    /// The session with this token hash, revoked or expired ones included (the caller checks).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError>;

    /// S9: revokes every live session of an agent; returns how many.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn revoke_agent_sessions(
        &self,
        account: AccountId,
        agent: AgentId,
        at: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Stores a new API token.
    ///
    /// # Errors
    /// `conflict` for a token hash already in use.
    async fn create_api_token(&self, token: &ApiToken) -> Result<(), StoreError>;

    /// The API token with this hash, revoked ones included (the caller checks).
    ///
    /// # Errors
    /// Only for storage failures.
    async fn api_token(&self, token_hash: &str) -> Result<Option<ApiToken>, StoreError>;

    /// Revokes an API token; returns whether a live one was revoked.
    ///
    /// # Errors
    /// Only for storage failures.
    async fn revoke_api_token(
        &self,
        account: AccountId,
        id: Uuid,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
}
