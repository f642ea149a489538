//! The [`Candidate`]: a snapshot of one queue member as routing sees them, built by the caller
//! from the store just before choosing (availability, load, experience level, cost tier and
//! how long they have been idle). Routing reads candidates and never changes the store.

use serde::{Deserialize, Serialize};

use super::load::AgentLoad;
use crate::entities::{Agent, Availability, Timestamp};
use crate::ids::AgentId;
use crate::presence::accepts_new_work;

/// One agent as routing sees them at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The agent.
    pub agent: AgentId,
    /// Their availability (R1).
    pub availability: Availability,
    /// Their load and capacity (R2).
    pub load: AgentLoad,
    /// Experience level for `most_experienced_first` (R3); higher is more experienced.
    pub experience_level: u8,
    /// Cost tier for `cheapest_first` (R3); lower is cheaper.
    pub cost_tier: u8,
    /// Since when the agent has been idle: the later of when they last became available and
    /// when they were last given a conversation (see [`idle_since`]). Earlier means idle longer.
    pub idle_since: Timestamp,
}

impl Candidate {
    /// A snapshot of `agent` (availability, capacity, experience level and cost tier) with the
    /// counts of their assigned open conversations and outstanding offers.
    #[must_use]
    pub const fn from_agent(
        agent: &Agent,
        assigned_open: u32,
        outstanding_offers: u32,
        idle_since: Timestamp,
    ) -> Self {
        Self {
            agent: agent.id,
            availability: agent.availability,
            load: AgentLoad {
                assigned_open,
                outstanding_offers,
                capacity: agent.capacity,
            },
            experience_level: agent.experience_level,
            cost_tier: agent.cost_tier,
            idle_since,
        }
    }

    /// R1, R2: whether routing may choose this agent at all: available, with a free slot.
    #[must_use]
    pub const fn is_eligible(&self) -> bool {
        accepts_new_work(self.availability) && self.load.has_free_capacity()
    }
}

/// The moment an agent's idle time starts from: the later of when they last became available
/// and when they were last given (assigned or offered) a conversation.
#[must_use]
pub fn idle_since(available_since: Timestamp, last_assigned_at: Option<Timestamp>) -> Timestamp {
    last_assigned_at.map_or(available_since, |last| last.max(available_since))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::actor::Role;
    use crate::ids::AccountId;
    use crate::routing::fixtures::t;

    #[test]
    fn r3_idle_since_is_the_later_of_available_and_last_assigned() {
        assert_eq!(idle_since(t(10), None), t(10));
        assert_eq!(idle_since(t(10), Some(t(20))), t(20));
        assert_eq!(idle_since(t(10), Some(t(5))), t(10));
    }

    #[test]
    fn r2_candidate_copies_the_agent_and_counts_its_load() {
        let agent = Agent {
            id: AgentId::from_u128(1),
            account: AccountId::from_u128(1),
            name: "Amal".into(),
            email: "amal@example.invalid".into(),
            role: Role::Agent,
            full_access: false,
            permissions: BTreeSet::new(),
            availability: Availability::Available,
            capacity: 3,
            experience_level: 4,
            cost_tier: 2,
        };
        let candidate = Candidate::from_agent(&agent, 2, 1, t(0));
        assert_eq!(candidate.load.load(), 3);
        assert_eq!(candidate.experience_level, 4);
        assert_eq!(candidate.cost_tier, 2);
        assert!(!candidate.is_eligible(), "full");
        let candidate = Candidate::from_agent(&agent, 1, 1, t(0));
        assert!(candidate.is_eligible());
        let busy = Candidate {
            availability: Availability::Busy,
            ..candidate
        };
        assert!(!busy.is_eligible(), "R1: only available agents");
    }
}
