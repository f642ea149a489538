//! The queue strategies (R3) as one pure choice, [`choose_agent`], and the delivery helper
//! [`RoutingDecision`] (assign directly, or offer until a deadline, R6). Only eligible agents
//! are ever chosen: `available` (R1), with a free slot (R2), and not in the context's skip list
//! (R6: agents that already let this conversation time out). Every tie ends in the agent id
//! order, so the same snapshot always gives the same choice.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::candidate::Candidate;
use crate::entities::{DeliveryMode, Queue, RoutingStrategy, Timestamp};
use crate::ids::AgentId;
use crate::presence::add_secs;

/// What routing chose for one conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "agent", rename_all = "snake_case")]
pub enum RoutingChoice {
    /// Give the conversation to this agent.
    Agent(AgentId),
    /// Nobody eligible (or a `manual` queue): the conversation waits in the queue (R5).
    Wait,
}

/// What the choice needs besides the candidates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoutingContext<'a> {
    /// R6: agents never to choose for this conversation (they let its offer time out).
    pub skip: &'a [AgentId],
    /// `round_robin`'s cursor: the agent last chosen in this queue, if any.
    pub last_chosen: Option<AgentId>,
}

impl RoutingContext<'_> {
    /// R1, R2, R6: whether `candidate` may be chosen.
    fn allows(&self, candidate: &Candidate) -> bool {
        candidate.is_eligible() && !self.skip.contains(&candidate.agent)
    }
}

/// R3: chooses the agent for one conversation by the queue's strategy.
///
/// - `least_loaded`: lowest load/capacity ratio; ties to the agent idle longest (earliest
///   `idle_since`), then the lowest agent id.
/// - `round_robin`: the eligible agent with the smallest id after `last_chosen`, wrapping to
///   the smallest id; the smallest id when there is no cursor.
/// - `most_experienced_first`: highest experience level; ties as `least_loaded`.
/// - `cheapest_first`: lowest cost tier; ties as `least_loaded`.
/// - `manual`: always [`RoutingChoice::Wait`]; agents pick from the queue.
///
/// Candidates that are not `available`, are full, or are in `ctx.skip` are never chosen;
/// with none left the answer is [`RoutingChoice::Wait`].
#[must_use]
pub fn choose_agent(
    strategy: RoutingStrategy,
    candidates: &[Candidate],
    ctx: RoutingContext<'_>,
) -> RoutingChoice {
    let eligible = candidates.iter().filter(|c| ctx.allows(c));
    let chosen = match strategy {
        RoutingStrategy::Manual => None,
        RoutingStrategy::LeastLoaded => eligible.min_by(|a, b| least_loaded_order(a, b)),
        RoutingStrategy::MostExperiencedFirst => eligible.min_by(|a, b| {
            b.experience_level
                .cmp(&a.experience_level)
                .then_with(|| least_loaded_order(a, b))
        }),
        RoutingStrategy::CheapestFirst => eligible.min_by(|a, b| {
            a.cost_tier
                .cmp(&b.cost_tier)
                .then_with(|| least_loaded_order(a, b))
        }),
        RoutingStrategy::RoundRobin => {
            let mut first: Option<&Candidate> = None;
            let mut next: Option<&Candidate> = None;
            for candidate in eligible {
                if first.is_none_or(|f| candidate.agent < f.agent) {
                    first = Some(candidate);
                }
                let after_cursor = ctx.last_chosen.is_some_and(|c| candidate.agent > c);
                if after_cursor && next.is_none_or(|n| candidate.agent < n.agent) {
                    next = Some(candidate);
                }
            }
            next.or(first)
        }
    };
    chosen.map_or(RoutingChoice::Wait, |c| RoutingChoice::Agent(c.agent))
}

/// The `least_loaded` order, also the tie rule of the other ranked strategies: lower
/// load/capacity ratio first, then idle longer (earlier `idle_since`), then lower agent id.
fn least_loaded_order(a: &Candidate, b: &Candidate) -> Ordering {
    a.load
        .cmp_ratio(&b.load)
        .then_with(|| a.idle_since.cmp(&b.idle_since))
        .then_with(|| a.agent.cmp(&b.agent))
}

/// R3, R6: how a choice is delivered by the queue's delivery mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RoutingDecision {
    /// `direct`: assign the conversation to the agent now.
    Assign {
        /// The agent.
        agent: AgentId,
    },
    /// `offer`: offer it to the agent, who must accept before `deadline` (R6).
    Offer {
        /// The agent.
        agent: AgentId,
        /// When the offer times out: now + the queue's offer timeout.
        deadline: Timestamp,
    },
    /// Nobody chosen: the conversation waits in the queue (R5).
    Wait,
}

impl RoutingDecision {
    /// Delivers `choice` by `queue`'s delivery mode: `direct` assigns, `offer` offers until
    /// `now + queue.offer_timeout_secs`.
    #[must_use]
    pub fn for_queue(choice: RoutingChoice, queue: &Queue, now: Timestamp) -> Self {
        match (choice, queue.delivery) {
            (RoutingChoice::Wait, _) => Self::Wait,
            (RoutingChoice::Agent(agent), DeliveryMode::Direct) => Self::Assign { agent },
            (RoutingChoice::Agent(agent), DeliveryMode::Offer) => Self::Offer {
                agent,
                deadline: add_secs(now, queue.offer_timeout_secs),
            },
        }
    }

    /// The agent who gets the conversation, if any.
    #[must_use]
    pub const fn agent(&self) -> Option<AgentId> {
        match *self {
            Self::Assign { agent } | Self::Offer { agent, .. } => Some(agent),
            Self::Wait => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::{Availability, DEFAULT_OFFER_TIMEOUT_SECS};
    use crate::ids::{AccountId, QueueId};
    use crate::routing::fixtures::{agent, candidate, t};

    fn choose(strategy: RoutingStrategy, candidates: &[Candidate]) -> RoutingChoice {
        choose_agent(strategy, candidates, RoutingContext::default())
    }

    const ALL: [RoutingStrategy; 4] = [
        RoutingStrategy::LeastLoaded,
        RoutingStrategy::RoundRobin,
        RoutingStrategy::MostExperiencedFirst,
        RoutingStrategy::CheapestFirst,
    ];

    #[test]
    fn r3_least_loaded_picks_the_lowest_ratio() {
        // 2/5 = 0.4 beats 1/2 = 0.5 although its absolute load is higher.
        let cands = [
            candidate(1).with_load(1, 0, 2),
            candidate(2).with_load(1, 1, 5),
            candidate(3).with_load(2, 1, 4),
        ];
        assert_eq!(
            choose(RoutingStrategy::LeastLoaded, &cands),
            RoutingChoice::Agent(agent(2))
        );
    }

    #[test]
    fn r3_least_loaded_tie_goes_to_the_agent_idle_longest() {
        // 1/2 == 2/4: same ratio; agent 3 has been idle since earlier.
        let cands = [
            candidate(1).with_load(1, 0, 2).idle_from(t(50)),
            candidate(3).with_load(2, 0, 4).idle_from(t(10)),
        ];
        assert_eq!(
            choose(RoutingStrategy::LeastLoaded, &cands),
            RoutingChoice::Agent(agent(3))
        );
    }

    #[test]
    fn r3_least_loaded_full_tie_goes_to_the_lowest_id() {
        let cands = [candidate(4), candidate(2), candidate(3)];
        assert_eq!(
            choose(RoutingStrategy::LeastLoaded, &cands),
            RoutingChoice::Agent(agent(2))
        );
    }

    #[test]
    fn r3_round_robin_takes_the_next_after_the_cursor() {
        let cands = [candidate(3), candidate(1), candidate(5)];
        let after = |last: Option<u128>| {
            choose_agent(
                RoutingStrategy::RoundRobin,
                &cands,
                RoutingContext {
                    skip: &[],
                    last_chosen: last.map(agent),
                },
            )
        };
        assert_eq!(after(None), RoutingChoice::Agent(agent(1)));
        assert_eq!(after(Some(1)), RoutingChoice::Agent(agent(3)));
        assert_eq!(after(Some(3)), RoutingChoice::Agent(agent(5)));
        assert_eq!(after(Some(5)), RoutingChoice::Agent(agent(1)), "wraps");
        // The cursor need not be a candidate any more (they left the queue).
        assert_eq!(after(Some(4)), RoutingChoice::Agent(agent(5)));
    }

    #[test]
    fn r3_round_robin_skips_ineligible_agents_after_the_cursor() {
        let cands = [
            candidate(1),
            candidate(2).with_availability(Availability::Busy),
            candidate(3).with_load(5, 0, 5),
        ];
        let choice = choose_agent(
            RoutingStrategy::RoundRobin,
            &cands,
            RoutingContext {
                skip: &[],
                last_chosen: Some(agent(1)),
            },
        );
        assert_eq!(choice, RoutingChoice::Agent(agent(1)));
    }

    #[test]
    fn r3_most_experienced_first_picks_the_highest_level_with_free_capacity() {
        let cands = [
            candidate(1).with_experience(9).with_load(5, 0, 5),
            candidate(2).with_experience(7).with_load(3, 0, 5),
            candidate(3).with_experience(4),
        ];
        assert_eq!(
            choose(RoutingStrategy::MostExperiencedFirst, &cands),
            RoutingChoice::Agent(agent(2))
        );
    }

    #[test]
    fn r3_most_experienced_first_ties_to_least_loaded_then_idle_longest() {
        let cands = [
            candidate(1).with_experience(7).with_load(2, 0, 5),
            candidate(2)
                .with_experience(7)
                .with_load(1, 0, 5)
                .idle_from(t(30)),
            candidate(3)
                .with_experience(7)
                .with_load(1, 0, 5)
                .idle_from(t(20)),
        ];
        assert_eq!(
            choose(RoutingStrategy::MostExperiencedFirst, &cands),
            RoutingChoice::Agent(agent(3))
        );
        assert_eq!(
            choose(RoutingStrategy::MostExperiencedFirst, &cands[..2]),
            RoutingChoice::Agent(agent(2)),
            "least loaded first"
        );
    }

    #[test]
    fn r3_cheapest_first_picks_the_lowest_tier_with_free_capacity() {
        let cands = [
            candidate(1).with_cost(0).with_load(5, 0, 5),
            candidate(2).with_cost(2),
            candidate(3).with_cost(1).with_load(4, 0, 5),
        ];
        assert_eq!(
            choose(RoutingStrategy::CheapestFirst, &cands),
            RoutingChoice::Agent(agent(3))
        );
    }

    #[test]
    fn r3_cheapest_first_ties_to_least_loaded_then_idle_longest() {
        let cands = [
            candidate(1).with_cost(1).with_load(3, 0, 5),
            candidate(2).with_cost(1).with_load(2, 0, 5).idle_from(t(9)),
            candidate(3).with_cost(1).with_load(2, 0, 5).idle_from(t(8)),
        ];
        assert_eq!(
            choose(RoutingStrategy::CheapestFirst, &cands),
            RoutingChoice::Agent(agent(3))
        );
        assert_eq!(
            choose(RoutingStrategy::CheapestFirst, &cands[..2]),
            RoutingChoice::Agent(agent(2))
        );
    }

    #[test]
    fn r3_manual_always_waits() {
        assert_eq!(
            choose(RoutingStrategy::Manual, &[candidate(1)]),
            RoutingChoice::Wait
        );
    }

    #[test]
    fn r1_no_strategy_picks_an_agent_who_is_not_available() {
        let cands = [
            candidate(1).with_availability(Availability::Offline),
            candidate(2).with_availability(Availability::Busy),
            candidate(3).with_availability(Availability::Rona),
        ];
        for strategy in ALL {
            assert_eq!(
                choose(strategy, &cands),
                RoutingChoice::Wait,
                "{strategy:?}"
            );
        }
    }

    #[test]
    fn r2_no_strategy_picks_a_full_agent() {
        let cands = [
            candidate(1).with_load(3, 2, 5),
            candidate(2).with_load(0, 0, 0),
            candidate(3).with_load(7, 0, 5),
        ];
        for strategy in ALL {
            assert_eq!(
                choose(strategy, &cands),
                RoutingChoice::Wait,
                "{strategy:?}"
            );
        }
    }

    #[test]
    fn r6_agents_who_let_the_offer_time_out_are_skipped() {
        let cands = [candidate(1), candidate(2)];
        for strategy in ALL {
            let ctx = RoutingContext {
                skip: &[agent(1)],
                last_chosen: None,
            };
            assert_eq!(
                choose_agent(strategy, &cands, ctx),
                RoutingChoice::Agent(agent(2)),
                "{strategy:?}"
            );
            let ctx = RoutingContext {
                skip: &[agent(1), agent(2)],
                last_chosen: None,
            };
            assert_eq!(choose_agent(strategy, &cands, ctx), RoutingChoice::Wait);
        }
    }

    fn queue(delivery: DeliveryMode) -> Queue {
        Queue {
            id: QueueId::from_u128(1),
            account: AccountId::from_u128(1),
            name: "Support".into(),
            strategy: RoutingStrategy::LeastLoaded,
            delivery,
            offer_timeout_secs: DEFAULT_OFFER_TIMEOUT_SECS,
            members: vec![agent(1)],
        }
    }

    #[test]
    fn r3_direct_delivery_assigns() {
        let decision = RoutingDecision::for_queue(
            RoutingChoice::Agent(agent(1)),
            &queue(DeliveryMode::Direct),
            t(0),
        );
        assert_eq!(decision, RoutingDecision::Assign { agent: agent(1) });
        assert_eq!(decision.agent(), Some(agent(1)));
    }

    #[test]
    fn r6_offer_delivery_has_a_deadline_after_the_offer_timeout() {
        let decision = RoutingDecision::for_queue(
            RoutingChoice::Agent(agent(1)),
            &queue(DeliveryMode::Offer),
            t(0),
        );
        assert_eq!(
            decision,
            RoutingDecision::Offer {
                agent: agent(1),
                deadline: t(30),
            }
        );
        let waiting =
            RoutingDecision::for_queue(RoutingChoice::Wait, &queue(DeliveryMode::Offer), t(0));
        assert_eq!(waiting, RoutingDecision::Wait);
        assert_eq!(waiting.agent(), None);
    }
}
