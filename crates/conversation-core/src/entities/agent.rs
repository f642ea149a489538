use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::actor::{Permission, Principal, Role};
use crate::ids::{AccountId, AgentId};

/// R2: the default maximum of concurrent open conversations per agent.
pub const DEFAULT_CAPACITY: u32 = 5;

/// An agent's availability (R1). Only `Available` agents get offers or automatic assignments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Signed out or away; shown red.
    Offline,
    /// Ready for work; shown green.
    Available,
    /// Signed in but not taking new work; shown red.
    Busy,
    /// Redirection on no answer: set by the system when an offer timed out (R6).
    Rona,
}

impl Availability {
    /// Whether lists show the agent green (R1).
    #[must_use]
    pub const fn shows_green(self) -> bool {
        matches!(self, Self::Available)
    }
}

/// A support person of an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    /// Its id.
    pub id: AgentId,
    /// The account it works for.
    pub account: AccountId,
    /// Display name, shown to contacts and on offers.
    pub name: String,
    /// Sign-in email.
    pub email: String,
    /// Role in the account (A2).
    pub role: Role,
    /// Sees and resolves every conversation (A2, C5).
    pub full_access: bool,
    /// Extra permissions (A2, D10).
    pub permissions: BTreeSet<Permission>,
    /// Current availability (R1).
    pub availability: Availability,
    /// Maximum concurrent open conversations (R2).
    pub capacity: u32,
    /// Experience level for `most_experienced_first` (R3); higher is more experienced.
    pub experience_level: u8,
    /// Cost tier for `cheapest_first` (R3); lower is cheaper.
    pub cost_tier: u8,
}

impl Agent {
    /// The principal this agent acts as.
    #[must_use]
    pub fn principal(&self) -> Principal {
        Principal {
            agent: self.id,
            role: self.role,
            full_access: self.full_access,
            permissions: self.permissions.clone(),
        }
    }
}
