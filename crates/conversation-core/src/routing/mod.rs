//! Routing (R2 to R6): the pure choice functions that decide which agent gets a conversation.
//! The caller loads a [`Candidate`] snapshot of each queue member from the store and asks:
//! [`choose_agent`] for a new or re-routed conversation (R3, skipping agents that let it time
//! out, R6), [`route_returning`] for a contact with a responsible agent (R4), [`backfill`] when
//! agents become available or free capacity (R5); [`RoutingDecision::for_queue`] then turns a
//! choice into a direct assignment or a timed offer. The conversation machine records the
//! outcome, and the store claims the capacity atomically (R2 under concurrency): these
//! functions never see more than one snapshot. To add a strategy: a `RoutingStrategy` variant,
//! its branch in [`choose_agent`] with its tie rules ending in the agent id, a test per tie rule,
//! and a paragraph in `docs/state-machines.md (presence and routing)`.

mod backlog;
mod candidate;
mod load;
mod returning;
mod strategy;

pub use backlog::{WaitingConversation, backfill, oldest_first, queue_position};
pub use candidate::{Candidate, idle_since};
pub use load::AgentLoad;
pub use returning::{
    Responsibility, ResponsibleAgent, ResponsibleSources, ReturningRouting, ReturningTask,
    route_returning,
};
pub use strategy::{RoutingChoice, RoutingContext, RoutingDecision, choose_agent};

/// Builders and generators shared by the routing tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use proptest::prelude::*;

    use super::{AgentLoad, Candidate};
    use crate::entities::{Availability, RoutingStrategy, Timestamp};
    use crate::ids::AgentId;
    pub(crate) use crate::presence::strategies::t;
    use crate::presence::strategies::{arb_availability, arb_timestamp};

    /// Agent number `n`.
    pub(crate) const fn agent(n: u128) -> AgentId {
        AgentId::from_u128(n)
    }

    /// Agent `n`: available, no load, capacity 5, level 0, tier 0, idle since `t(0)`.
    pub(crate) fn candidate(n: u128) -> Candidate {
        Candidate {
            agent: agent(n),
            availability: Availability::Available,
            load: AgentLoad::default(),
            experience_level: 0,
            cost_tier: 0,
            idle_since: t(0),
        }
    }

    impl Candidate {
        pub(crate) const fn with_load(mut self, assigned: u32, offers: u32, capacity: u32) -> Self {
            self.load = AgentLoad {
                assigned_open: assigned,
                outstanding_offers: offers,
                capacity,
            };
            self
        }

        pub(crate) const fn with_availability(mut self, availability: Availability) -> Self {
            self.availability = availability;
            self
        }

        pub(crate) const fn with_experience(mut self, level: u8) -> Self {
            self.experience_level = level;
            self
        }

        pub(crate) const fn with_cost(mut self, tier: u8) -> Self {
            self.cost_tier = tier;
            self
        }

        pub(crate) const fn idle_from(mut self, at: Timestamp) -> Self {
            self.idle_since = at;
            self
        }
    }

    /// Any strategy.
    pub(crate) fn arb_strategy() -> impl Strategy<Value = RoutingStrategy> {
        prop_oneof![
            Just(RoutingStrategy::LeastLoaded),
            Just(RoutingStrategy::RoundRobin),
            Just(RoutingStrategy::MostExperiencedFirst),
            Just(RoutingStrategy::CheapestFirst),
            Just(RoutingStrategy::Manual),
        ]
    }

    /// Any load, small enough for collisions and sometimes above capacity.
    pub(crate) fn arb_load() -> impl Strategy<Value = AgentLoad> {
        (0_u32..7, 0_u32..3, 0_u32..7).prop_map(|(assigned_open, outstanding_offers, capacity)| {
            AgentLoad {
                assigned_open,
                outstanding_offers,
                capacity,
            }
        })
    }

    /// One candidate with the given id.
    pub(crate) fn arb_candidate_for(agent: AgentId) -> impl Strategy<Value = Candidate> {
        (
            arb_availability(),
            arb_load(),
            0_u8..4,
            0_u8..4,
            arb_timestamp(),
        )
            .prop_map(
                move |(availability, load, experience_level, cost_tier, idle_since)| Candidate {
                    agent,
                    availability,
                    load,
                    experience_level,
                    cost_tier,
                    idle_since,
                },
            )
    }

    /// Up to eight candidates with distinct ids.
    pub(crate) fn arb_candidates() -> impl Strategy<Value = Vec<Candidate>> {
        (0_u128..8).prop_flat_map(|n| {
            (1..=n)
                .map(|i| arb_candidate_for(agent(i)))
                .collect::<Vec<_>>()
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::Duration;
    use proptest::prelude::*;
    use proptest::sample::Index;

    use super::fixtures::{agent, arb_candidate_for, arb_load, arb_strategy, t};
    use super::*;
    use crate::entities::{
        Availability, DeliveryMode, InboxSettings, Queue, RoutingStrategy, Timestamp,
    };
    use crate::ids::{AccountId, AgentId, ContactId, ConversationId, QueueId};
    use crate::presence::strategies::{arb_agent, arb_conversation, arb_timestamp, round_trip};
    use crate::presence::{AgentPresence, OfflineGrace, PresenceCommand, offline_grace};

    /// One thing that happens in the simulated inbox.
    #[derive(Clone, Debug)]
    enum Step {
        /// A new conversation enters the queue and is routed.
        Arrive,
        /// An assigned conversation is resolved (C5), freeing a slot.
        Resolve(Index),
        /// An offered conversation is accepted.
        Accept(Index),
        /// An offer times out (R6).
        TimeOut(Index),
        /// An agent asks for a presence change (R1).
        Presence(Index, u8),
        /// An agent's capacity is changed (R2).
        Capacity(Index, u32),
        /// R11: an offline agent's grace timer fires.
        GraceTimer(Index),
        /// Time passes.
        Tick(u16),
    }

    fn arb_step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => Just(Step::Arrive),
            2 => any::<Index>().prop_map(Step::Resolve),
            2 => any::<Index>().prop_map(Step::Accept),
            2 => any::<Index>().prop_map(Step::TimeOut),
            3 => (any::<Index>(), 0_u8..4).prop_map(|(i, c)| Step::Presence(i, c)),
            1 => (any::<Index>(), 0_u32..7).prop_map(|(i, c)| Step::Capacity(i, c)),
            1 => any::<Index>().prop_map(Step::GraceTimer),
            2 => (0_u16..300).prop_map(Step::Tick),
        ]
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Holder {
        Waiting,
        Offered(AgentId),
        Assigned(AgentId),
    }

    impl Holder {
        const fn offered(self) -> Option<AgentId> {
            match self {
                Self::Offered(agent) => Some(agent),
                _ => None,
            }
        }

        const fn assigned(self) -> Option<AgentId> {
            match self {
                Self::Assigned(agent) => Some(agent),
                _ => None,
            }
        }
    }

    #[derive(Debug)]
    struct Conversation {
        queued_at: Timestamp,
        timed_out: Vec<AgentId>,
        holder: Holder,
    }

    #[derive(Debug)]
    struct SimAgent {
        presence: AgentPresence,
        capacity: u32,
        experience_level: u8,
        cost_tier: u8,
        last_given: Option<Timestamp>,
    }

    /// An inbox with one queue, driven by random steps; every hand-out is checked.
    #[derive(Debug)]
    struct Sim {
        queue: Queue,
        now: Timestamp,
        agents: Vec<SimAgent>,
        conversations: BTreeMap<ConversationId, Conversation>,
        next_id: u128,
        cursor: Option<AgentId>,
        handed_out: usize,
    }

    impl Sim {
        fn candidates(&self) -> Vec<Candidate> {
            self.agents
                .iter()
                .map(|a| {
                    let id = a.presence.agent;
                    let count = |h: Holder| {
                        let n = self
                            .conversations
                            .values()
                            .filter(|c| c.holder == h)
                            .count();
                        u32::try_from(n).unwrap()
                    };
                    Candidate {
                        agent: id,
                        availability: a.presence.availability,
                        load: AgentLoad {
                            assigned_open: count(Holder::Assigned(id)),
                            outstanding_offers: count(Holder::Offered(id)),
                            capacity: a.capacity,
                        },
                        experience_level: a.experience_level,
                        cost_tier: a.cost_tier,
                        idle_since: idle_since(a.presence.since, a.last_given),
                    }
                })
                .collect()
        }

        /// Hands `conversation` to `agent`, checking R1, R2 and R6 against the live state.
        fn give(
            &mut self,
            conversation: ConversationId,
            agent: AgentId,
        ) -> Result<(), TestCaseError> {
            let snapshot = self
                .candidates()
                .into_iter()
                .find(|c| c.agent == agent)
                .ok_or_else(|| TestCaseError::fail("chose an agent outside the queue"))?;
            prop_assert_eq!(snapshot.availability, Availability::Available, "R1");
            prop_assert!(
                snapshot.load.load() < snapshot.load.capacity,
                "R2: {:?} would exceed capacity",
                snapshot
            );
            let conv = self.conversations.get_mut(&conversation).unwrap();
            prop_assert_eq!(conv.holder, Holder::Waiting);
            prop_assert!(!conv.timed_out.contains(&agent), "R6: skipped agent chosen");
            conv.holder = match RoutingDecision::for_queue(
                RoutingChoice::Agent(agent),
                &self.queue,
                self.now,
            ) {
                RoutingDecision::Assign { agent } => Holder::Assigned(agent),
                RoutingDecision::Offer { agent, deadline } => {
                    prop_assert!(deadline > self.now);
                    Holder::Offered(agent)
                }
                RoutingDecision::Wait => unreachable!("a choice of an agent is delivered"),
            };
            let given = self
                .agents
                .iter_mut()
                .find(|a| a.presence.agent == agent)
                .unwrap();
            given.last_given = Some(self.now);
            self.cursor = Some(agent);
            self.handed_out += 1;
            Ok(())
        }

        /// Routes one waiting conversation (R3, R6).
        fn route(&mut self, conversation: ConversationId) -> Result<(), TestCaseError> {
            let candidates = self.candidates();
            let conv = &self.conversations[&conversation];
            let ctx = RoutingContext {
                skip: &conv.timed_out,
                last_chosen: self.cursor,
            };
            match choose_agent(self.queue.strategy, &candidates, ctx) {
                RoutingChoice::Agent(agent) => self.give(conversation, agent),
                RoutingChoice::Wait => Ok(()),
            }
        }

        /// R5: hands out free slots to the waiting conversations.
        fn backfill(&mut self) -> Result<(), TestCaseError> {
            let waiting: Vec<_> = self
                .conversations
                .iter()
                .filter(|(_, c)| c.holder == Holder::Waiting)
                .map(|(id, c)| WaitingConversation {
                    conversation: *id,
                    queued_at: c.queued_at,
                    timed_out: c.timed_out.clone(),
                })
                .collect();
            let pairs = backfill(
                &waiting,
                &self.candidates(),
                self.queue.strategy,
                self.cursor,
            );
            for (conversation, agent) in pairs {
                self.give(conversation, agent)?;
            }
            Ok(())
        }

        fn pick(
            &self,
            index: &Index,
            wanted: fn(Holder) -> Option<AgentId>,
        ) -> Option<(ConversationId, AgentId)> {
            let matching: Vec<_> = self
                .conversations
                .iter()
                .filter_map(|(id, c)| wanted(c.holder).map(|a| (*id, a)))
                .collect();
            (!matching.is_empty()).then(|| *index.get(&matching))
        }

        fn step(&mut self, step: &Step) -> Result<(), TestCaseError> {
            match step {
                Step::Arrive => {
                    self.next_id += 1;
                    let id = ConversationId::from_u128(self.next_id);
                    self.conversations.insert(
                        id,
                        Conversation {
                            queued_at: self.now,
                            timed_out: Vec::new(),
                            holder: Holder::Waiting,
                        },
                    );
                    self.route(id)?;
                }
                Step::Resolve(index) => {
                    if let Some((id, _)) = self.pick(index, Holder::assigned) {
                        self.conversations.remove(&id);
                        self.backfill()?;
                    }
                }
                Step::Accept(index) => {
                    if let Some((id, agent)) = self.pick(index, Holder::offered) {
                        self.conversations.get_mut(&id).unwrap().holder = Holder::Assigned(agent);
                    }
                }
                Step::TimeOut(index) => {
                    if let Some((id, agent)) = self.pick(index, Holder::offered) {
                        let sim_agent = self
                            .agents
                            .iter_mut()
                            .find(|a| a.presence.agent == agent)
                            .unwrap();
                        let events = sim_agent
                            .presence
                            .decide(PresenceCommand::MarkRona { conversation: id }, self.now)
                            .map_err(|e| TestCaseError::fail(e.to_string()))?;
                        for event in &events {
                            sim_agent.presence.apply(event);
                        }
                        prop_assert!(!sim_agent.presence.accepts_new_work());
                        let conv = self.conversations.get_mut(&id).unwrap();
                        conv.timed_out.push(agent);
                        conv.holder = Holder::Waiting;
                        self.route(id)?;
                    }
                }
                Step::Presence(index, command) => {
                    let command = match command {
                        0 => PresenceCommand::SetAvailable,
                        1 => PresenceCommand::SetBusy,
                        _ => PresenceCommand::SetOffline,
                    };
                    let sim_agent = index.get_mut(&mut self.agents);
                    if let Ok(events) = sim_agent.presence.decide(command, self.now) {
                        for event in &events {
                            sim_agent.presence.apply(event);
                        }
                        if sim_agent.presence.accepts_new_work() {
                            self.backfill()?;
                        }
                    }
                }
                Step::Capacity(index, capacity) => {
                    index.get_mut(&mut self.agents).capacity = *capacity;
                    self.backfill()?;
                }
                Step::GraceTimer(index) => {
                    let presence = index.get(&self.agents).presence;
                    if let Some(went) = presence.offline_since() {
                        let grace = offline_grace(
                            went,
                            presence.came_back_since(went),
                            &InboxSettings::default(),
                            self.now,
                        );
                        if let OfflineGrace::RouteAgain { .. } = grace {
                            for conv in self.conversations.values_mut() {
                                if let Holder::Assigned(a) | Holder::Offered(a) = conv.holder {
                                    if a == presence.agent {
                                        conv.holder = Holder::Waiting;
                                    }
                                }
                            }
                            self.backfill()?;
                        }
                    }
                }
                Step::Tick(secs) => self.now += Duration::seconds(i64::from(*secs)),
            }
            Ok(())
        }
    }

    fn arb_sim_agent(n: u128) -> impl Strategy<Value = SimAgent> {
        (0_u32..6, 0_u8..4, 0_u8..4).prop_map(move |(capacity, experience_level, cost_tier)| {
            SimAgent {
                presence: AgentPresence::new(agent(n), t(0)),
                capacity,
                experience_level,
                cost_tier,
                last_given: None,
            }
        })
    }

    fn arb_sim() -> impl Strategy<Value = Sim> {
        (
            arb_strategy(),
            prop_oneof![Just(DeliveryMode::Direct), Just(DeliveryMode::Offer)],
            (1_u128..6).prop_flat_map(|n| (1..=n).map(arb_sim_agent).collect::<Vec<_>>()),
        )
            .prop_map(|(strategy, delivery, agents)| Sim {
                queue: Queue {
                    id: QueueId::from_u128(1),
                    account: AccountId::from_u128(1),
                    name: "Support".into(),
                    strategy,
                    delivery,
                    offer_timeout_secs: 30,
                    members: agents.iter().map(|a| a.presence.agent).collect(),
                },
                now: t(0),
                agents,
                conversations: BTreeMap::new(),
                next_id: 0,
                cursor: None,
                handed_out: 0,
            })
    }

    proptest! {
        /// R1, R2, R5, R6, R11: over random arrivals, resolutions, acceptances, offer
        /// timeouts, presence and capacity changes and grace timers, automatic routing with
        /// every strategy never chooses an unavailable agent, never takes an agent beyond
        /// capacity, and never re-offers to an agent who let the conversation time out
        /// (every hand-out is checked in `Sim::give`).
        #[test]
        fn r2_routing_never_exceeds_capacity_nor_picks_unavailable_agents(
            mut sim in arb_sim(),
            steps in prop::collection::vec(arb_step(), 0..80),
        ) {
            for step in &steps {
                sim.step(step)?;
                // R5: after every step, no waiting conversation could be taken by an eligible
                // agent that did not let it time out: backfill ran whenever slots freed.
                if sim.queue.strategy != RoutingStrategy::Manual {
                    let candidates = sim.candidates();
                    for conv in sim.conversations.values().filter(|c| c.holder == Holder::Waiting) {
                        let ctx = RoutingContext { skip: &conv.timed_out, last_chosen: None };
                        prop_assert_eq!(
                            choose_agent(sim.queue.strategy, &candidates, ctx),
                            RoutingChoice::Wait,
                            "R5: a conversation waits while {:?} could take it after {:?}",
                            candidates,
                            step
                        );
                    }
                }
            }
            if sim.queue.strategy == RoutingStrategy::Manual {
                prop_assert_eq!(sim.handed_out, 0);
            }
        }

        /// R2, R3, R4, R5: every routing type survives a JSON round trip.
        #[test]
        fn r3_routing_types_survive_serde(
            agent_id in arb_agent(),
            conversation in arb_conversation(),
            at in arb_timestamp(),
            load in arb_load(),
            candidate in arb_agent().prop_flat_map(arb_candidate_for),
            strategy in arb_strategy(),
            flags in any::<[bool; 3]>(),
        ) {
            round_trip(&load)?;
            round_trip(&candidate)?;
            round_trip(&strategy)?;
            round_trip(&RoutingChoice::Agent(agent_id))?;
            round_trip(&RoutingChoice::Wait)?;
            round_trip(&RoutingDecision::Assign { agent: agent_id })?;
            round_trip(&RoutingDecision::Offer { agent: agent_id, deadline: at })?;
            round_trip(&RoutingDecision::Wait)?;
            round_trip(&WaitingConversation {
                conversation,
                queued_at: at,
                timed_out: vec![agent_id],
            })?;
            let sources = ResponsibleSources {
                account_manager: flags[0].then_some(agent_id),
                open_request_assignee: flags[1].then_some(agent_id),
                active_dialog_assignee: flags[2].then_some(agent_id),
            };
            round_trip(&sources)?;
            if let Some(responsible) = sources.responsible() {
                round_trip(&responsible)?;
            }
            for basis in [
                Responsibility::AccountManager,
                Responsibility::OpenRequest,
                Responsibility::ActiveDialog,
            ] {
                round_trip(&basis)?;
            }
            let task = ReturningTask {
                agent: agent_id,
                contact: ContactId::from_u128(3),
                conversation,
            };
            round_trip(&task)?;
            round_trip(&ReturningRouting { choice: RoutingChoice::Wait, task: Some(task) })?;
            round_trip(&ReturningRouting { choice: RoutingChoice::Agent(agent_id), task: None })?;
        }
    }
}
