//! R2: how a change of a conversation moves agents' load, for the store to apply in the same
//! transaction as the change. Capacity is enforced on every claim except a manual assignment by
//! someone else (R7: allowed over capacity, the presence is shown) and the guest who stays when
//! the assignee leaves a conference (they already work on it).

use serde::{Deserialize, Serialize};

use super::event::{ConversationEvent, ConversationEventKind};
use crate::actor::Actor;
use crate::ids::AgentId;

/// An agent taking one unit of load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityClaim {
    /// The agent.
    pub agent: AgentId,
    /// Whether the claim must fail when the agent is at capacity (R2).
    pub enforce_capacity: bool,
}

/// The load moves of one change: at most one release and one claim.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadChange {
    /// The agent whose load drops by one.
    pub release: Option<AgentId>,
    /// The agent whose load rises by one.
    pub claim: Option<CapacityClaim>,
}

impl LoadChange {
    /// R2: the load moves from the holder before (`Conversation::load_holder`) to the holder
    /// after, given the events that led there.
    #[must_use]
    pub fn between(
        before: Option<AgentId>,
        after: Option<AgentId>,
        events: &[ConversationEvent],
    ) -> Self {
        if before == after {
            return Self::default();
        }
        let claim = after.map(|agent| CapacityClaim {
            agent,
            enforce_capacity: !events.iter().rev().any(|event| exempt(event, agent)),
        });
        Self {
            release: before,
            claim,
        }
    }
}

/// Whether this event gave `agent` the conversation without a capacity check.
fn exempt(event: &ConversationEvent, agent: AgentId) -> bool {
    match event.kind {
        ConversationEventKind::Assigned { agent: to, .. } => {
            to == agent && matches!(event.actor, Actor::Agent(by) if by != agent)
        }
        ConversationEventKind::ConferenceLeft { remaining, .. } => remaining == agent,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::ConversationCommand;
    use super::super::tests::{ALICE, BOB, CAROL, run, started, t};
    use super::*;
    use crate::actor::{Principal, Role};

    fn change(before: &super::super::Conversation, command: ConversationCommand) -> LoadChange {
        let mut after = before.clone();
        let events = run(&mut after, command, t(5)).unwrap();
        LoadChange::between(before.load_holder(), after.load_holder(), &events)
    }

    #[test]
    fn r2_routing_offers_and_assignments_claim_with_capacity_enforced() {
        let c = started();
        for command in [
            ConversationCommand::RouteAssign { agent: ALICE },
            ConversationCommand::RouteOffer {
                agent: ALICE,
                deadline: t(30),
            },
            ConversationCommand::Claim {
                by: Principal::agent(ALICE),
                member_of_queue: true,
            },
        ] {
            assert_eq!(
                change(&c, command),
                LoadChange {
                    release: None,
                    claim: Some(CapacityClaim {
                        agent: ALICE,
                        enforce_capacity: true
                    })
                }
            );
        }
    }

    #[test]
    fn r7_manual_assignment_by_someone_else_counts_without_capacity_check() {
        let c = started();
        let admin = Principal::agent(CAROL).with_role(Role::Admin);
        assert_eq!(
            change(
                &c,
                ConversationCommand::AssignAgent {
                    by: admin,
                    agent: BOB
                }
            ),
            LoadChange {
                release: None,
                claim: Some(CapacityClaim {
                    agent: BOB,
                    enforce_capacity: false
                })
            }
        );
    }

    #[test]
    fn r2_accepting_an_offer_moves_no_load_and_resolving_releases_it() {
        let mut c = started();
        run(
            &mut c,
            ConversationCommand::RouteOffer {
                agent: ALICE,
                deadline: t(30),
            },
            t(1),
        )
        .unwrap();
        assert_eq!(
            change(&c, ConversationCommand::AcceptOffer { agent: ALICE }),
            LoadChange::default()
        );
        let resolve = ConversationCommand::Resolve {
            by: Principal::agent(ALICE),
            wrap_up: None,
            closing: None,
            wrap_up_mandatory: false,
        };
        let mut assigned = c.clone();
        run(
            &mut assigned,
            ConversationCommand::AcceptOffer { agent: ALICE },
            t(2),
        )
        .unwrap();
        assert_eq!(
            change(&assigned, resolve),
            LoadChange {
                release: Some(ALICE),
                claim: None
            }
        );
    }
}
