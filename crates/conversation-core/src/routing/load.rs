//! An agent's load against their capacity (R2): load = assigned open conversations +
//! outstanding offers. Routing only ever chooses an agent with a free slot, so no automatic
//! assignment or offer makes load exceed capacity (manual assignment, R7, may). Ratios are
//! compared as exact fractions by integer cross-multiplication, never with floats.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::entities::DEFAULT_CAPACITY;

/// An agent's load and capacity at one moment (R2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AgentLoad {
    /// Open conversations assigned to the agent.
    pub assigned_open: u32,
    /// Offers made to the agent and not yet accepted, declined or timed out (R6).
    pub outstanding_offers: u32,
    /// The most conversations the agent may hold at once (default 5).
    pub capacity: u32,
}

impl Default for AgentLoad {
    /// No work, the default capacity of 5.
    fn default() -> Self {
        Self::idle(DEFAULT_CAPACITY)
    }
}

impl AgentLoad {
    /// No work, with the given capacity.
    #[must_use]
    pub const fn idle(capacity: u32) -> Self {
        Self {
            assigned_open: 0,
            outstanding_offers: 0,
            capacity,
        }
    }

    /// R2: assigned open conversations + outstanding offers.
    #[must_use]
    pub const fn load(&self) -> u32 {
        self.assigned_open.saturating_add(self.outstanding_offers)
    }

    /// R2: how many more conversations may be assigned or offered (0 when full or over, as after
    /// a manual assignment, R7, or a lowered capacity).
    #[must_use]
    pub const fn free_slots(&self) -> u32 {
        self.capacity.saturating_sub(self.load())
    }

    /// R2: whether one more conversation may be assigned or offered.
    #[must_use]
    pub const fn has_free_capacity(&self) -> bool {
        self.free_slots() > 0
    }

    /// Compares load/capacity ratios exactly (`a/b < c/d` as `a*d < c*b` in 64 bits). A zero
    /// capacity counts as an infinite ratio: such an agent is always full.
    #[must_use]
    pub fn cmp_ratio(&self, other: &Self) -> Ordering {
        match (self.capacity, other.capacity) {
            (0, 0) => Ordering::Equal,
            (0, _) => Ordering::Greater,
            (_, 0) => Ordering::Less,
            (mine, theirs) => {
                let left = u64::from(self.load()) * u64::from(theirs);
                let right = u64::from(other.load()) * u64::from(mine);
                left.cmp(&right)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(assigned_open: u32, outstanding_offers: u32, capacity: u32) -> AgentLoad {
        AgentLoad {
            assigned_open,
            outstanding_offers,
            capacity,
        }
    }

    #[test]
    fn r2_capacity_defaults_to_five() {
        assert_eq!(AgentLoad::default(), load(0, 0, 5));
        assert_eq!(AgentLoad::default().free_slots(), 5);
    }

    #[test]
    fn r2_load_counts_assigned_and_outstanding_offers() {
        let l = load(3, 1, 5);
        assert_eq!(l.load(), 4);
        assert_eq!(l.free_slots(), 1);
        assert!(l.has_free_capacity());
        assert!(!load(3, 2, 5).has_free_capacity());
    }

    #[test]
    fn r2_over_capacity_has_no_free_slot() {
        // R7 manual assignment or a lowered capacity may leave an agent above capacity.
        let l = load(6, 1, 5);
        assert_eq!(l.free_slots(), 0);
        assert!(!l.has_free_capacity());
        assert!(!load(0, 0, 0).has_free_capacity());
        assert_eq!(load(u32::MAX, u32::MAX, 5).load(), u32::MAX);
    }

    #[test]
    fn r3_ratios_compare_as_exact_fractions() {
        // 1/3 < 2/5 < 1/2, and 2/4 == 1/2.
        assert_eq!(load(1, 0, 3).cmp_ratio(&load(2, 0, 5)), Ordering::Less);
        assert_eq!(load(0, 2, 5).cmp_ratio(&load(1, 0, 2)), Ordering::Less);
        assert_eq!(load(2, 0, 4).cmp_ratio(&load(0, 1, 2)), Ordering::Equal);
        // Fractions that floats would round together stay apart.
        let a = load(u32::MAX - 1, 0, u32::MAX);
        let b = load(u32::MAX - 2, 0, u32::MAX - 1);
        assert_eq!(a.cmp_ratio(&b), Ordering::Greater);
        assert_eq!(load(0, 0, 0).cmp_ratio(&load(9, 0, 9)), Ordering::Greater);
        assert_eq!(load(9, 0, 9).cmp_ratio(&load(0, 0, 0)), Ordering::Less);
    }
}
