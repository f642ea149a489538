//! Agents: the account's list with presence (R1), profiles with capacity, experience and cost
//! tier (R2, R3), roles, flags and permissions (A2), availability changes through the presence
//! machine (R1: from `rona` only `available`).

use std::collections::BTreeSet;

use conversation_core::DomainError;
use conversation_core::actor::{Permission, Role};
use conversation_core::entities::{Agent, Availability, DEFAULT_CAPACITY};
use conversation_core::ids::AgentId;
use conversation_core::permissions;
use conversation_core::presence::PresenceCommand;

use super::{email, manager_of, required, within};
use crate::app::App;
use crate::auth::agent_of;
use crate::caller::Caller;
use crate::error::AppResult;
use crate::secrets::hash_password;

/// The largest capacity an agent can be given (R2).
const MAX_CAPACITY: u32 = 1000;

/// A new agent, as an owner or admin enters them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAgent {
    /// Display name.
    pub name: String,
    /// Sign-in email (unique).
    pub email: String,
    /// `admin` or `agent`: there is one owner, made at the first start.
    pub role: Role,
    /// A2: sees every conversation.
    pub full_access: bool,
    /// A2: extra permissions.
    pub permissions: BTreeSet<Permission>,
    /// R2: maximum concurrent conversations (default 5).
    pub capacity: Option<u32>,
    /// R3: experience level (default 1, higher is more experienced).
    pub experience_level: Option<u8>,
    /// R3: cost tier (default 1, lower is cheaper).
    pub cost_tier: Option<u8>,
    /// The initial password (at least 8 characters), stored as a slow salted hash (S9).
    pub password: String,
}

/// Changes to an agent's profile; `None` keeps the current value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentProfile {
    /// Display name.
    pub name: Option<String>,
    /// Sign-in email.
    pub email: Option<String>,
    /// `admin` or `agent`.
    pub role: Option<Role>,
    /// A2: sees every conversation.
    pub full_access: Option<bool>,
    /// A2: the whole set of extra permissions.
    pub permissions: Option<BTreeSet<Permission>>,
    /// R2: maximum concurrent conversations.
    pub capacity: Option<u32>,
    /// R3: experience level.
    pub experience_level: Option<u8>,
    /// R3: cost tier.
    pub cost_tier: Option<u8>,
}

/// An availability an agent (or an admin for them) may ask for: `rona` is the system's (R1, R6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetAvailability {
    /// Ready for offers and assignments; the only way out of `rona`.
    Available,
    /// Signed in, keeps their work, takes nothing new.
    Busy,
    /// Away or signed out.
    Offline,
}

impl SetAvailability {
    const fn command(self) -> PresenceCommand {
        match self {
            Self::Available => PresenceCommand::SetAvailable,
            Self::Busy => PresenceCommand::SetBusy,
            Self::Offline => PresenceCommand::SetOffline,
        }
    }
}

fn assignable_role(role: Role) -> AppResult<Role> {
    if role == Role::Owner {
        return Err(DomainError::InvalidValue {
            field: "role",
            reason: "an account has one owner; give `admin` or `agent`",
        }
        .into());
    }
    Ok(role)
}

fn capacity(value: u32) -> AppResult<u32> {
    within(
        "capacity",
        value,
        1,
        MAX_CAPACITY,
        "must be between 1 and 1000",
    )
}

impl App {
    /// R1: the account's agents, by name, with their availability (green = available).
    ///
    /// # Errors
    /// `forbidden` for callers that are not agents.
    pub async fn agents(&self, caller: &Caller) -> AppResult<Vec<Agent>> {
        let (account, _) = agent_of(caller)?;
        Ok(self.store.agents(account).await?)
    }

    /// One agent of the account.
    ///
    /// # Errors
    /// `not_found` for an id that is not an agent of the caller's account (S1).
    pub async fn agent(&self, caller: &Caller, id: AgentId) -> AppResult<Agent> {
        let (account, _) = agent_of(caller)?;
        Ok(self
            .store
            .agent(account, id)
            .await?
            .ok_or(DomainError::NotFound)?)
    }

    /// A2, R2, R3: creates an agent (owners and admins). The agent starts offline.
    ///
    /// # Errors
    /// `forbidden`; `missing_field`, `invalid_value` (blank name, bad email, role `owner`,
    /// capacity out of range, short password); `conflict` for an email already used.
    pub async fn create_agent(&self, caller: &Caller, new: NewAgent) -> AppResult<Agent> {
        let (account, _) = manager_of(caller, "create agents")?;
        let agent = Agent {
            id: AgentId::from_uuid(self.new_id()),
            account,
            name: required("name", &new.name)?,
            email: email("email", &new.email)?,
            role: assignable_role(new.role)?,
            full_access: new.full_access,
            permissions: new.permissions,
            availability: Availability::Offline,
            capacity: capacity(new.capacity.unwrap_or(DEFAULT_CAPACITY))?,
            experience_level: new.experience_level.unwrap_or(1),
            cost_tier: new.cost_tier.unwrap_or(1),
        };
        let hash = hash_password(&new.password)?;
        self.store.save_agent(&agent).await?;
        self.store
            .set_password_hash(account, agent.id, &hash)
            .await?;
        Ok(self
            .store
            .agent(account, agent.id)
            .await?
            .ok_or(DomainError::NotFound)?)
    }

    /// A2, R2, R3: changes an agent's profile (owners and admins; the owner's profile only by
    /// the owner, and the owner's role never).
    ///
    /// # Errors
    /// `forbidden`; `not_found` (S1); the validation codes of [`App::create_agent`].
    pub async fn update_agent(
        &self,
        caller: &Caller,
        id: AgentId,
        changes: AgentProfile,
    ) -> AppResult<Agent> {
        let (account, principal) = manager_of(caller, "change agents")?;
        let mut agent = self
            .store
            .agent(account, id)
            .await?
            .ok_or(DomainError::NotFound)?;
        if agent.role == Role::Owner {
            if principal.role != Role::Owner {
                return Err(DomainError::Forbidden {
                    action: "change the owner's profile",
                }
                .into());
            }
            if changes.role.is_some_and(|role| role != Role::Owner) {
                return Err(DomainError::InvalidValue {
                    field: "role",
                    reason: "the owner stays the owner",
                }
                .into());
            }
        } else if let Some(role) = changes.role {
            agent.role = assignable_role(role)?;
        }
        if let Some(name) = changes.name {
            agent.name = required("name", &name)?;
        }
        if let Some(address) = changes.email {
            agent.email = email("email", &address)?;
        }
        if let Some(full_access) = changes.full_access {
            agent.full_access = full_access;
        }
        if let Some(set) = changes.permissions {
            agent.permissions = set;
        }
        let grew = changes.capacity.is_some_and(|value| value > agent.capacity);
        if let Some(value) = changes.capacity {
            agent.capacity = capacity(value)?;
        }
        if let Some(level) = changes.experience_level {
            agent.experience_level = level;
        }
        if let Some(tier) = changes.cost_tier {
            agent.cost_tier = tier;
        }
        self.store.save_agent(&agent).await?;
        if grew {
            // R5: the new slots take waiting conversations.
            self.backfill_agent(account, id).await?;
        }
        Ok(self
            .store
            .agent(account, id)
            .await?
            .ok_or(DomainError::NotFound)?)
    }

    /// R1: changes an agent's availability through the presence machine: the caller's own
    /// (`agent` = `None`, or their own id), or anyone's for owners and admins. From `rona` only
    /// `available` is accepted. Asking for the current availability changes nothing.
    ///
    /// # Errors
    /// `forbidden` for another agent's availability without being an admin; `not_found` (S1);
    /// `invalid_transition` out of `rona`.
    pub async fn set_availability(
        &self,
        caller: &Caller,
        agent: Option<AgentId>,
        availability: SetAvailability,
    ) -> AppResult<Agent> {
        let (account, principal) = agent_of(caller)?;
        let target = agent.unwrap_or(principal.agent);
        if target != principal.agent {
            if !permissions::can_manage_account(principal) {
                return Err(DomainError::Forbidden {
                    action: "change another agent's availability",
                }
                .into());
            }
            // S1: an id of another account is absent, whoever asks.
            self.store
                .agent(account, target)
                .await?
                .ok_or(DomainError::NotFound)?;
        }
        // R1, R11 timers, R5 backfill when they became available.
        self.change_presence(account, target, availability.command())
            .await?;
        Ok(self
            .store
            .agent(account, target)
            .await?
            .ok_or(DomainError::NotFound)?)
    }
}
