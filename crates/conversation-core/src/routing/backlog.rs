//! The queue's backlog (R5): conversations waiting for an agent, served oldest first (ties by
//! conversation id). [`backfill`] hands out the free slots when agents become available or
//! free capacity, counting each hand-out against the agent's load as it goes so nobody exceeds
//! their capacity (R2); [`queue_position`] tells a contact their place in line.

use serde::{Deserialize, Serialize};

use super::candidate::Candidate;
use super::strategy::{RoutingChoice, RoutingContext, choose_agent};
use crate::entities::{RoutingStrategy, Timestamp};
use crate::ids::{AgentId, ConversationId};

/// A conversation waiting in a queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingConversation {
    /// The conversation.
    pub conversation: ConversationId,
    /// When it entered the queue; the oldest is served first.
    pub queued_at: Timestamp,
    /// R6: agents who let an offer of it time out; they are not chosen for it again.
    pub timed_out: Vec<AgentId>,
}

impl WaitingConversation {
    /// A conversation waiting since `queued_at`, that nobody has let time out yet.
    #[must_use]
    pub const fn new(conversation: ConversationId, queued_at: Timestamp) -> Self {
        Self {
            conversation,
            queued_at,
            timed_out: Vec::new(),
        }
    }

    /// The serving order: oldest first, ties by conversation id.
    fn order_key(&self) -> (Timestamp, ConversationId) {
        (self.queued_at, self.conversation)
    }
}

/// R5: the waiting conversations in serving order: oldest first, ties by conversation id.
#[must_use]
pub fn oldest_first(waiting: &[WaitingConversation]) -> Vec<&WaitingConversation> {
    let mut ordered: Vec<_> = waiting.iter().collect();
    ordered.sort_by_key(|w| w.order_key());
    ordered
}

/// R5: assigns waiting conversations to the free slots of `candidates`, oldest first, each by
/// `strategy` (R3) as if it had just arrived; `last_chosen` is the queue's round-robin cursor.
///
/// Each pair counts against the chosen agent's load before the next conversation is routed, so
/// no agent is given more than their free slots (R2); only available agents are chosen (R1),
/// and never one in the conversation's `timed_out` list (R6). A conversation nobody can take
/// is passed over, and the next one is tried. A `manual` queue assigns nothing.
///
/// Returns the (conversation, agent) pairs in the order they were made; the agent of the last
/// pair is the queue's new round-robin cursor. The caller delivers each pair by the queue's
/// delivery mode ([`RoutingDecision`](super::RoutingDecision)).
#[must_use]
pub fn backfill(
    waiting: &[WaitingConversation],
    candidates: &[Candidate],
    strategy: RoutingStrategy,
    last_chosen: Option<AgentId>,
) -> Vec<(ConversationId, AgentId)> {
    let mut pool = candidates.to_vec();
    let mut free: u64 = pool
        .iter()
        .filter(|c| c.is_eligible())
        .map(|c| u64::from(c.load.free_slots()))
        .sum();
    let mut cursor = last_chosen;
    let mut pairs = Vec::new();
    for next in oldest_first(waiting) {
        if free == 0 {
            break;
        }
        let ctx = RoutingContext {
            skip: &next.timed_out,
            last_chosen: cursor,
        };
        let RoutingChoice::Agent(agent) = choose_agent(strategy, &pool, ctx) else {
            continue;
        };
        if let Some(chosen) = pool.iter_mut().find(|c| c.agent == agent) {
            chosen.load.assigned_open = chosen.load.assigned_open.saturating_add(1);
        }
        free -= 1;
        cursor = Some(agent);
        pairs.push((next.conversation, agent));
    }
    pairs
}

/// R5: the conversation's 1-based position in the serving order, `None` when it is not
/// waiting.
#[must_use]
pub fn queue_position(
    waiting: &[WaitingConversation],
    conversation: ConversationId,
) -> Option<usize> {
    let target = waiting.iter().find(|w| w.conversation == conversation)?;
    let ahead = waiting
        .iter()
        .filter(|w| w.order_key() < target.order_key())
        .count();
    Some(ahead + 1)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::entities::Availability;
    use crate::routing::fixtures::{agent, arb_candidates, arb_strategy, candidate, t};

    fn conv(n: u128) -> ConversationId {
        ConversationId::from_u128(n)
    }

    fn waiting(n: u128, queued: i64) -> WaitingConversation {
        WaitingConversation::new(conv(n), t(queued))
    }

    #[test]
    fn r5_waiting_conversations_are_ordered_oldest_first_ties_by_id() {
        let line = [
            waiting(3, 20),
            waiting(2, 10),
            waiting(1, 20),
            waiting(4, 5),
        ];
        let order: Vec<_> = oldest_first(&line).iter().map(|w| w.conversation).collect();
        assert_eq!(order, [conv(4), conv(2), conv(1), conv(3)]);
    }

    #[test]
    fn r5_queue_position_is_one_based_in_serving_order() {
        let line = [
            waiting(3, 20),
            waiting(2, 10),
            waiting(1, 20),
            waiting(4, 5),
        ];
        assert_eq!(queue_position(&line, conv(4)), Some(1));
        assert_eq!(queue_position(&line, conv(2)), Some(2));
        assert_eq!(queue_position(&line, conv(1)), Some(3));
        assert_eq!(queue_position(&line, conv(3)), Some(4));
        assert_eq!(queue_position(&line, conv(9)), None);
    }

    #[test]
    fn r5_backfill_serves_oldest_first_up_to_free_capacity() {
        let line = [
            waiting(1, 30),
            waiting(2, 10),
            waiting(3, 20),
            waiting(4, 40),
        ];
        let cands = [
            candidate(1).with_load(1, 0, 2),
            candidate(2).with_load(0, 1, 2),
            candidate(3).with_availability(Availability::Busy),
        ];
        let pairs = backfill(&line, &cands, RoutingStrategy::LeastLoaded, None);
        let served: Vec<_> = pairs.iter().map(|p| p.0).collect();
        assert_eq!(served, [conv(2), conv(3)], "two free slots, oldest two");
        let mut per_agent = BTreeMap::new();
        for (_, a) in &pairs {
            *per_agent.entry(*a).or_insert(0) += 1;
        }
        assert_eq!(per_agent.get(&agent(1)), Some(&1));
        assert_eq!(per_agent.get(&agent(2)), Some(&1));
    }

    #[test]
    fn r5_backfill_updates_loads_as_it_goes() {
        // One agent with three free slots and least_loaded: all three go to them, no more.
        let line = [waiting(1, 1), waiting(2, 2), waiting(3, 3), waiting(4, 4)];
        let cands = [candidate(1).with_load(2, 0, 5)];
        let pairs = backfill(&line, &cands, RoutingStrategy::LeastLoaded, None);
        assert_eq!(
            pairs,
            [
                (conv(1), agent(1)),
                (conv(2), agent(1)),
                (conv(3), agent(1))
            ]
        );
    }

    #[test]
    fn r5_backfill_round_robin_moves_its_cursor() {
        let line = [waiting(1, 1), waiting(2, 2), waiting(3, 3)];
        let cands = [candidate(1), candidate(2)];
        let pairs = backfill(&line, &cands, RoutingStrategy::RoundRobin, Some(agent(1)));
        assert_eq!(
            pairs,
            [
                (conv(1), agent(2)),
                (conv(2), agent(1)),
                (conv(3), agent(2))
            ]
        );
    }

    #[test]
    fn r5_backfill_in_a_manual_queue_assigns_nothing() {
        let pairs = backfill(
            &[waiting(1, 1)],
            &[candidate(1)],
            RoutingStrategy::Manual,
            None,
        );
        assert!(pairs.is_empty());
    }

    #[test]
    fn r6_backfill_passes_over_a_conversation_only_skipped_agents_could_take() {
        let mut oldest = waiting(1, 1);
        oldest.timed_out = vec![agent(1)];
        let line = [oldest, waiting(2, 2)];
        let pairs = backfill(&line, &[candidate(1)], RoutingStrategy::LeastLoaded, None);
        assert_eq!(pairs, [(conv(2), agent(1))]);
    }

    proptest! {
        /// R5: without skip lists, backfill serves exactly the oldest conversations, in order,
        /// as many as there are free slots among available agents; R1, R2: it chooses only
        /// available agents and fills nobody beyond capacity.
        #[test]
        fn r5_backfill_serves_the_oldest_waiting_first(
            queued in prop::collection::vec(0_i64..50, 0..30),
            cands in arb_candidates(),
            strategy in arb_strategy(),
        ) {
            let line: Vec<_> = queued
                .iter()
                .zip(1_u128..)
                .map(|(q, n)| waiting(n, *q))
                .collect();
            let pairs = backfill(&line, &cands, strategy, None);
            let free: usize = cands
                .iter()
                .filter(|c| c.is_eligible())
                .map(|c| c.load.free_slots() as usize)
                .sum();
            let expected_count = if strategy == RoutingStrategy::Manual {
                0
            } else {
                free.min(line.len())
            };
            prop_assert_eq!(pairs.len(), expected_count);
            let order: Vec<_> = oldest_first(&line).iter().map(|w| w.conversation).collect();
            let served: Vec<_> = pairs.iter().map(|p| p.0).collect();
            prop_assert_eq!(&served[..], &order[..served.len()]);
            for (position, id) in served.iter().enumerate() {
                prop_assert_eq!(queue_position(&line, *id), Some(position + 1));
            }
            for c in &cands {
                let given = pairs.iter().filter(|p| p.1 == c.agent).count();
                if given > 0 {
                    prop_assert_eq!(c.availability, Availability::Available);
                    prop_assert!(given <= c.load.free_slots() as usize);
                }
            }
        }
    }
}
