//! Signing in, authenticating bearer tokens, passwords, API tokens, and the owner's first start
//! (A3, S9).

use conversation_core::actor::{Principal, Role};
use conversation_core::entities::{Account, Agent, Availability, DEFAULT_CAPACITY};
use conversation_core::ids::{AccountId, AgentId};
use conversation_core::ports::{ApiToken, Session, SessionSubject};
use conversation_core::{DomainError, Timestamp};

use crate::app::App;
use crate::caller::Caller;
use crate::error::{AppError, AppResult};
use crate::secrets::{
    TokenKind, hash_password, new_password, new_token, token_hash, verify_password,
};

/// A new session.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// The bearer token: shown once, never stored.
    pub token: String,
    /// The agent.
    pub agent: Agent,
    /// When it stops working.
    pub expires_at: Timestamp,
}

/// What the first start created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bootstrapped {
    /// The new account.
    pub account: AccountId,
    /// The owner's email.
    pub email: String,
    /// The generated password, when none was given: print it once.
    pub generated_password: Option<String>,
}

/// A hash verified when the email is unknown, so that a wrong email and a wrong password take
/// the same time.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

impl App {
    /// The signed-in agent's own profile.
    ///
    /// # Errors
    /// `unauthenticated` when the agent no longer exists; `not_found` for visitors,
    /// `forbidden` for integrations.
    pub async fn me(&self, caller: &Caller) -> AppResult<Agent> {
        let (account, principal) = agent_of(caller)?;
        self.store
            .agent(account, principal.agent)
            .await?
            .ok_or(AppError::Unauthenticated)
    }

    /// Whether the process can serve: its database answers a read.
    ///
    /// # Errors
    /// `unavailable` (or `internal`) when the database does not answer.
    pub async fn ready(&self) -> AppResult<()> {
        self.store.account(AccountId::from_u128(0)).await?;
        Ok(())
    }

    /// A3: signs an agent in with email and password.
    ///
    /// # Errors
    /// `unauthenticated` for an unknown email or a wrong password (the same answer for both).
    pub async fn sign_in(&self, email: &str, password: &str) -> AppResult<SignedIn> {
        let Some(agent) = self.store.agent_by_email(email.trim()).await? else {
            let _ = verify_password(password, dummy_hash());
            return Err(AppError::Unauthenticated);
        };
        let hash = self.store.password_hash(agent.account, agent.id).await?;
        if !hash.is_some_and(|hash| verify_password(password, &hash)) {
            return Err(AppError::Unauthenticated);
        }
        let token = new_token(TokenKind::AgentSession)?;
        let now = self.now();
        let expires_at = now + self.config.session_ttl;
        self.store
            .create_session(&Session {
                id: self.new_id(),
                account: agent.account,
                subject: SessionSubject::Agent { agent: agent.id },
                token_hash: token_hash(&token),
                created_at: now,
                expires_at,
                revoked_at: None,
            })
            .await?;
        Ok(SignedIn {
            token,
            agent,
            expires_at,
        })
    }

    /// A3: who a bearer token belongs to.
    ///
    /// # Errors
    /// `unauthenticated` for an unknown, expired or revoked token.
    pub async fn authenticate(&self, token: &str) -> AppResult<Caller> {
        let now = self.now();
        match TokenKind::of(token).ok_or(AppError::Unauthenticated)? {
            TokenKind::AgentSession | TokenKind::VisitorSession => {
                let session = self
                    .store
                    .session(&token_hash(token))
                    .await?
                    .ok_or(AppError::Unauthenticated)?;
                if session.revoked_at.is_some() || session.expires_at <= now {
                    return Err(AppError::Unauthenticated);
                }
                match session.subject {
                    SessionSubject::Agent { agent } => {
                        let agent = self
                            .store
                            .agent(session.account, agent)
                            .await?
                            .ok_or(AppError::Unauthenticated)?;
                        Ok(Caller::Agent {
                            account: agent.account,
                            principal: agent.principal(),
                        })
                    }
                    SessionSubject::Visitor { contact, inbox } => Ok(Caller::Visitor {
                        account: session.account,
                        contact,
                        inbox,
                    }),
                }
            }
            TokenKind::ApiToken => {
                let api = self
                    .store
                    .api_token(&token_hash(token))
                    .await?
                    .ok_or(AppError::Unauthenticated)?;
                if api.revoked_at.is_some() {
                    return Err(AppError::Unauthenticated);
                }
                Ok(Caller::Integration {
                    account: api.account,
                })
            }
        }
    }

    /// S9: changes the caller's password and revokes every session of theirs.
    ///
    /// # Errors
    /// `unauthenticated` when the current password is wrong; `invalid_value` for a weak one.
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: &str,
        new: &str,
    ) -> AppResult<u64> {
        let (account, principal) = agent_of(caller)?;
        let hash = self.store.password_hash(account, principal.agent).await?;
        if !hash.is_some_and(|hash| verify_password(current, &hash)) {
            return Err(AppError::Unauthenticated);
        }
        self.store
            .set_password_hash(account, principal.agent, &hash_password(new)?)
            .await?;
        Ok(self
            .store
            .revoke_agent_sessions(account, principal.agent, self.now())
            .await?)
    }

    /// A3: a new API token for an integration (owners and admins only). Returns the token,
    /// shown once.
    ///
    /// # Errors
    /// `forbidden` for other callers; `missing_field` for a blank name.
    pub async fn create_api_token(
        &self,
        caller: &Caller,
        name: &str,
    ) -> AppResult<(ApiToken, String)> {
        let (account, principal) = agent_of(caller)?;
        if !principal.role.is_administrator() {
            return Err(DomainError::Forbidden {
                action: "create API tokens",
            }
            .into());
        }
        if name.trim().is_empty() {
            return Err(DomainError::MissingField { field: "name" }.into());
        }
        let token = new_token(TokenKind::ApiToken)?;
        let record = ApiToken {
            id: self.new_id(),
            account,
            name: name.trim().to_owned(),
            token_hash: token_hash(&token),
            created_at: self.now(),
            revoked_at: None,
        };
        self.store.create_api_token(&record).await?;
        Ok((record, token))
    }

    /// First start: when no agent signs in with `email` yet, creates an account and its owner,
    /// with `password` or a generated one.
    ///
    /// # Errors
    /// Storage failures; `invalid_value` for a password under 8 characters.
    pub async fn bootstrap(
        &self,
        email: &str,
        password: Option<&str>,
    ) -> AppResult<Option<Bootstrapped>> {
        let email = email.trim().to_owned();
        if email.is_empty() || !email.contains('@') {
            return Err(DomainError::InvalidValue {
                field: "owner email",
                reason: "must be an email address",
            }
            .into());
        }
        if self.store.agent_by_email(&email).await?.is_some() {
            return Ok(None);
        }
        let generated = match password {
            Some(_) => None,
            None => Some(new_password()?),
        };
        let password =
            password.map_or_else(|| generated.clone().unwrap_or_default(), str::to_owned);
        let hash = hash_password(&password)?;
        let now = self.now();
        let account = AccountId::from_uuid(self.new_id());
        self.store
            .create_account(&Account {
                id: account,
                name: "My company".into(),
                created_at: now,
            })
            .await?;
        let owner = Agent {
            id: AgentId::from_uuid(self.new_id()),
            account,
            name: "Owner".into(),
            email: email.clone(),
            role: Role::Owner,
            full_access: true,
            permissions: std::collections::BTreeSet::new(),
            availability: Availability::Offline,
            capacity: DEFAULT_CAPACITY,
            experience_level: 1,
            cost_tier: 1,
        };
        self.store.save_agent(&owner).await?;
        self.store
            .set_password_hash(account, owner.id, &hash)
            .await?;
        // D1: every account starts with the request types Support and Refund.
        for name in ["Support", "Refund"] {
            let entry = conversation_core::entities::SettingEntry::new(self.new_id(), name)?;
            self.store
                .save_setting(
                    account,
                    conversation_core::ports::SettingKind::RequestType,
                    &entry,
                )
                .await?;
        }
        Ok(Some(Bootstrapped {
            account,
            email,
            generated_password: generated,
        }))
    }
}

/// The agent behind a caller.
///
/// # Errors
/// `not_found` for visitors (S5), `forbidden` for integrations.
pub fn agent_of(caller: &Caller) -> AppResult<(AccountId, &Principal)> {
    match caller {
        Caller::Agent { account, principal } => Ok((*account, principal)),
        // S5: a visitor token reaches nothing of the agents' API: it does not exist for them.
        Caller::Visitor { .. } => Err(DomainError::NotFound.into()),
        Caller::Integration { .. } => Err(DomainError::Forbidden {
            action: "do this without signing in as an agent",
        }
        .into()),
    }
}
