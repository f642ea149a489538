//! R2, R3, R5, B4: routing decisions of one queue in this process are made one at a time, but
//! committed together.
//!
//! Routers of one queue that chose at once would all read the same loads and choose the same
//! best agent; all but the few that fit would lose the slot at the commit and choose again, and
//! under a burst some would give up and wait while slots are free. So a router takes the queue's
//! **turn** to choose, and before it gives the turn back it **holds** the slot it chose: the next
//! router counts held slots as load. The hold lasts until the chooser's commit is done, so the
//! commits of a burst share the store's group commit instead of waiting for each other.
//!
//! A hold whose commit has landed but which is not yet dropped is counted twice (stored load
//! and hold) for a moment. That errs on the safe side (R2 is never broken by it), and a router
//! that found no room while holds were counted chooses again once they are gone
//! ([`Turn::counted_holds`], [`QueueTurns::holds_changed`]), so no slot stays free while a
//! conversation waits. Across processes the store's conditional capacity update still decides,
//! and the loser chooses again.
//!
//! The round-robin cursor chosen last in this process is kept here too, so that routers whose
//! commits have not moved the stored cursor yet do not all choose the agent after the same one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use conversation_core::ids::{AgentId, QueueId};
use conversation_core::routing::Candidate;
use tokio::sync::{Notify, OwnedMutexGuard};

/// How long a router that found no room waits for held slots to be settled before it looks again.
const HOLD_WAIT: Duration = Duration::from_millis(50);

/// One queue's routing state in this process.
#[derive(Debug, Default)]
struct QueueState {
    turn: Arc<tokio::sync::Mutex<()>>,
    held: Mutex<Held>,
    released: Notify,
}

#[derive(Debug, Default)]
struct Held {
    slots: HashMap<AgentId, u32>,
    last_chosen: Option<AgentId>,
}

impl QueueState {
    fn held(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The turns of each queue.
#[derive(Debug, Default)]
pub(crate) struct QueueTurns {
    queues: Mutex<HashMap<QueueId, Arc<QueueState>>>,
}

impl QueueTurns {
    fn state(&self, queue: QueueId) -> Arc<QueueState> {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(queues.entry(queue).or_default())
    }

    /// Waits for the queue's turn; it lasts as long as the returned [`Turn`].
    pub(crate) async fn take(&self, queue: QueueId) -> Turn {
        let state = self.state(queue);
        let guard = Arc::clone(&state.turn).lock_owned().await;
        Turn {
            state,
            _guard: guard,
            counted: false,
        }
    }

    /// Waits until a hold of the queue is dropped, or a short while: for a router that found
    /// no room while holds were counted.
    pub(crate) async fn holds_changed(&self, queue: QueueId) {
        let state = self.state(queue);
        let released = state.released.notified();
        if state.held().slots.is_empty() {
            return;
        }
        let _ = tokio::time::timeout(HOLD_WAIT, released).await;
    }
}

/// A queue's turn to choose.
#[derive(Debug)]
pub(crate) struct Turn {
    state: Arc<QueueState>,
    _guard: OwnedMutexGuard<()>,
    counted: bool,
}

impl Turn {
    /// Adds the slots held by routers whose commits are not done yet to the candidates' loads.
    pub(crate) fn count_holds(&mut self, candidates: &mut [Candidate]) {
        let held = self.state.held();
        for candidate in candidates {
            if let Some(slots) = held.slots.get(&candidate.agent) {
                candidate.load.outstanding_offers =
                    candidate.load.outstanding_offers.saturating_add(*slots);
                self.counted = true;
            }
        }
    }

    /// Whether [`Turn::count_holds`] counted any held slot.
    pub(crate) const fn counted_holds(&self) -> bool {
        self.counted
    }

    /// The round-robin cursor this process chose last in the queue, if any.
    pub(crate) fn last_chosen(&self) -> Option<AgentId> {
        self.state.held().last_chosen
    }

    /// Holds a slot of `agent` until the returned [`Hold`] is dropped (after the commit).
    pub(crate) fn hold(&self, agent: AgentId) -> Hold {
        let mut held = self.state.held();
        *held.slots.entry(agent).or_default() += 1;
        held.last_chosen = Some(agent);
        Hold {
            state: Arc::clone(&self.state),
            agent,
        }
    }
}

/// A slot chosen in a turn, counted as load until its commit is done.
#[derive(Debug)]
pub(crate) struct Hold {
    state: Arc<QueueState>,
    agent: AgentId,
}

impl Drop for Hold {
    fn drop(&mut self) {
        {
            let mut held = self.state.held();
            if let Some(slots) = held.slots.get_mut(&self.agent) {
                *slots = slots.saturating_sub(1);
                if *slots == 0 {
                    held.slots.remove(&self.agent);
                }
            }
        }
        self.state.released.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use conversation_core::entities::Availability;
    use conversation_core::routing::AgentLoad;

    use super::*;

    fn candidate(agent: AgentId) -> Candidate {
        Candidate {
            agent,
            availability: Availability::Available,
            load: AgentLoad::idle(2),
            experience_level: 0,
            cost_tier: 0,
            idle_since: conversation_core::Timestamp::UNIX_EPOCH,
        }
    }

    #[tokio::test]
    async fn b4_one_turn_per_queue_at_a_time_and_queues_do_not_wait_for_each_other() {
        let turns = QueueTurns::default();
        let (a, b) = (QueueId::from_u128(1), QueueId::from_u128(2));
        let held = turns.take(a).await;
        // Another queue is not held up.
        let other = tokio::time::timeout(Duration::from_secs(5), turns.take(b)).await;
        assert!(other.is_ok());
        // The same queue waits until the turn is given back.
        let waiting = tokio::time::timeout(Duration::from_millis(50), turns.take(a)).await;
        assert!(waiting.is_err());
        drop(held);
        let next = tokio::time::timeout(Duration::from_secs(5), turns.take(a)).await;
        assert!(next.is_ok());
    }

    #[tokio::test]
    async fn r2_b4_held_slots_count_as_load_until_their_hold_is_dropped() {
        let turns = QueueTurns::default();
        let queue = QueueId::from_u128(1);
        let agent = AgentId::from_u128(7);
        let first = turns.take(queue).await;
        let hold = first.hold(agent);
        drop(first);

        let mut second = turns.take(queue).await;
        let mut candidates = vec![candidate(agent)];
        second.count_holds(&mut candidates);
        assert_eq!(candidates[0].load.load(), 1);
        assert!(second.counted_holds());
        assert_eq!(second.last_chosen(), Some(agent));
        drop(second);

        drop(hold);
        let mut third = turns.take(queue).await;
        let mut candidates = vec![candidate(agent)];
        third.count_holds(&mut candidates);
        assert_eq!(candidates[0].load.load(), 0);
        assert!(!third.counted_holds());
    }

    #[tokio::test]
    async fn b4_a_router_waiting_for_holds_wakes_when_one_is_dropped() {
        let turns = Arc::new(QueueTurns::default());
        let queue = QueueId::from_u128(1);
        let hold = turns.take(queue).await.hold(AgentId::from_u128(7));
        let waiter = {
            let turns = Arc::clone(&turns);
            tokio::spawn(async move { turns.holds_changed(queue).await })
        };
        tokio::task::yield_now().await;
        drop(hold);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .expect("joined");
        // With nothing held it does not wait at all.
        tokio::time::timeout(Duration::from_millis(20), turns.holds_changed(queue))
            .await
            .expect("no wait");
    }
}
