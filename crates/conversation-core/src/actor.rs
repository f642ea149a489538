//! Who does things: the [`Actor`] recorded on every event (C12) and the [`Principal`], an agent
//! with a role, flags and permissions, whose rights the functions of
//! [`permissions`](crate::permissions) decide.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, ContactId};

/// Who caused an event. Recorded on every event of a timeline (C12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// The server itself: routing, timers, background jobs.
    System,
    /// The contact, writing through a channel or the widget.
    Contact(ContactId),
    /// An agent, through the dashboard or the API.
    Agent(AgentId),
    /// An external bot flow or integration acting through an API token (C11).
    Integration,
}

/// An agent's role in the account (A2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The account's owner: every right.
    Owner,
    /// An administrator: every right on conversations and settings.
    Admin,
    /// A support agent: rights from flags and permissions.
    Agent,
}

impl Role {
    /// Owner or admin.
    #[must_use]
    pub const fn is_administrator(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }
}

/// A named permission that can be granted to an agent (A2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Edit request types, reasons and components (D10).
    EditDialogSettings,
    /// Assign conversations to agents or queues by hand (R7).
    AssignConversations,
}

/// An authenticated agent acting: the input of every permission check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The agent.
    pub agent: AgentId,
    /// Their role.
    pub role: Role,
    /// The `full_access` flag: sees and resolves every conversation (A2, C5).
    pub full_access: bool,
    /// Extra permissions granted to them.
    pub permissions: BTreeSet<Permission>,
}

impl Principal {
    /// A plain agent with no flag and no permission.
    #[must_use]
    pub fn agent(agent: AgentId) -> Self {
        Self {
            agent,
            role: Role::Agent,
            full_access: false,
            permissions: BTreeSet::new(),
        }
    }

    /// The same principal with another role.
    #[must_use]
    pub fn with_role(mut self, role: Role) -> Self {
        self.role = role;
        self
    }

    /// The same principal with the `full_access` flag.
    #[must_use]
    pub fn with_full_access(mut self) -> Self {
        self.full_access = true;
        self
    }

    /// The same principal with one more permission.
    #[must_use]
    pub fn with_permission(mut self, permission: Permission) -> Self {
        self.permissions.insert(permission);
        self
    }

    /// Whether they hold the permission, directly or through an administrator role.
    #[must_use]
    pub fn has(&self, permission: Permission) -> bool {
        self.role.is_administrator() || self.permissions.contains(&permission)
    }

    /// The actor to record on events caused by this principal.
    #[must_use]
    pub const fn actor(&self) -> Actor {
        Actor::Agent(self.agent)
    }
}
