//! `AuthStore`: password hashes, sessions and API tokens (A3, S9). Only hashes are kept. A
//! session of an agent also stores the agent in its own column, so revoking every session of
//! an agent (on a password change, S9) is one UPDATE. A session is stored only for a subject of
//! its own account (A1); a token hash used twice is a `conflict`.

use async_trait::async_trait;
use conversation_core::DomainError;
use conversation_core::Timestamp;
use conversation_core::ids::{AccountId, AgentId};
use conversation_core::ports::{ApiToken, AuthStore, Session, SessionSubject, StoreError};
use uuid::Uuid;

use crate::directory::write_error;
use crate::error::{OrStoreError, StoreResult, Violation, violation};
use crate::open::SqlStore;
use crate::rows::to_json;
use crate::sql::{Row, args};

/// A new session or token's driver error: its hash or id in use is a `conflict`.
fn insert_error(error: sqlx::Error, what: &'static str) -> StoreError {
    match violation(&error) {
        Some(Violation::TokenHash | Violation::PrimaryKey) => DomainError::Conflict { what }.into(),
        _ => write_error(error),
    }
}

fn session_row(row: &Row) -> StoreResult<Session> {
    Ok(Session {
        id: row.uuid("id").store()?,
        account: AccountId::from_uuid(row.uuid("account_id").store()?),
        subject: row.json("subject").store()?,
        token_hash: row.text("token_hash").store()?,
        created_at: row.time("created_at").store()?,
        expires_at: row.time("expires_at").store()?,
        revoked_at: row.opt_time("revoked_at").store()?,
    })
}

fn api_token_row(row: &Row) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: row.uuid("id").store()?,
        account: AccountId::from_uuid(row.uuid("account_id").store()?),
        name: row.text("name").store()?,
        token_hash: row.text("token_hash").store()?,
        created_at: row.time("created_at").store()?,
        revoked_at: row.opt_time("revoked_at").store()?,
    })
}

#[async_trait]
impl AuthStore for SqlStore {
    async fn set_password_hash(
        &self,
        account: AccountId,
        agent: AgentId,
        hash: &str,
    ) -> Result<(), StoreError> {
        let updated = self
            .db
            .execute(
                "UPDATE agents SET password_hash = $3 WHERE id = $1 AND account_id = $2",
                &args![agent, account, hash],
            )
            .await
            .store()?;
        if updated == 0 {
            return Err(DomainError::NotFound.into());
        }
        Ok(())
    }

    async fn password_hash(
        &self,
        account: AccountId,
        agent: AgentId,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .db
            .fetch_optional(
                "SELECT password_hash FROM agents WHERE id = $1 AND account_id = $2",
                &args![agent, account],
            )
            .await
            .store()?
            .map(|row| row.opt_text("password_hash").store())
            .transpose()?
            .flatten())
    }

    async fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        // The subject must be of the session's account (A1, S5): the row is inserted only when
        // it is, and a missing row answers `not_found`.
        let agent = match session.subject {
            SessionSubject::Agent { agent } => Some(agent),
            SessionSubject::Visitor { .. } => None,
        };
        let mut values = Vec::from(args![
            session.id,
            session.account,
            agent,
            to_json(&session.subject)?,
            session.token_hash.as_str(),
            session.created_at,
            session.expires_at,
            session.revoked_at
        ]);
        let subject_check = match session.subject {
            SessionSubject::Agent { .. } => {
                "EXISTS (SELECT 1 FROM agents WHERE id = $3 AND account_id = $2)"
            }
            SessionSubject::Visitor { contact, inbox } => {
                values.extend(args![contact, inbox]);
                "EXISTS (SELECT 1 FROM contacts WHERE id = $9 AND account_id = $2) \
                 AND EXISTS (SELECT 1 FROM inboxes WHERE id = $10 AND account_id = $2 \
                 AND deleted_at IS NULL)"
            }
        };
        let sql = format!(
            "INSERT INTO sessions (id, account_id, agent_id, subject, token_hash, created_at, \
             expires_at, revoked_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE {subject_check}"
        );
        let written = self
            .db
            .execute(&sql, &values)
            .await
            .map_err(|e| insert_error(e, "a session with this token"))?;
        if written == 0 {
            return Err(DomainError::NotFound.into());
        }
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError> {
        self.db
            .fetch_optional(
                "SELECT id, account_id, subject, token_hash, created_at, expires_at, revoked_at \
                 FROM sessions WHERE token_hash = $1",
                &args![token_hash],
            )
            .await
            .store()?
            .as_ref()
            .map(session_row)
            .transpose()
    }

    async fn revoke_agent_sessions(
        &self,
        account: AccountId,
        agent: AgentId,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        // Live: not revoked and not expired at `at`.
        self.db
            .execute(
                "UPDATE sessions SET revoked_at = $3 \
                 WHERE account_id = $1 AND agent_id = $2 AND revoked_at IS NULL AND expires_at > $3",
                &args![account, agent, at],
            )
            .await
            .store()
    }

    async fn create_api_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        self.db
            .execute(
                "INSERT INTO api_tokens (id, account_id, name, token_hash, created_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &args![
                    token.id,
                    token.account,
                    token.name.as_str(),
                    token.token_hash.as_str(),
                    token.created_at,
                    token.revoked_at
                ],
            )
            .await
            .map_err(|e| insert_error(e, "an API token with this hash"))?;
        Ok(())
    }

    async fn api_token(&self, token_hash: &str) -> Result<Option<ApiToken>, StoreError> {
        self.db
            .fetch_optional(
                "SELECT id, account_id, name, token_hash, created_at, revoked_at \
                 FROM api_tokens WHERE token_hash = $1",
                &args![token_hash],
            )
            .await
            .store()?
            .as_ref()
            .map(api_token_row)
            .transpose()
    }

    async fn revoke_api_token(
        &self,
        account: AccountId,
        id: Uuid,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let revoked = self
            .db
            .execute(
                "UPDATE api_tokens SET revoked_at = $3 \
                 WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL",
                &args![id, account, at],
            )
            .await
            .store()?;
        Ok(revoked > 0)
    }
}
