//! Returning contacts (R4, K3): a contact who writes again goes to the agent responsible for
//! them when that agent is available with free capacity; otherwise that agent gets a task
//! ("contact X wrote again") and the conversation is routed by the queue's strategy (R3).
//! Who is responsible is decided by [`ResponsibleSources::responsible`], in a fixed priority.

use serde::{Deserialize, Serialize};

use super::candidate::Candidate;
use super::strategy::{RoutingChoice, RoutingContext, choose_agent};
use crate::entities::{RoutingStrategy, TaskSource};
use crate::ids::{AgentId, ContactId, ConversationId};

/// Why an agent is responsible for a contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Responsibility {
    /// K3: the contact's account manager.
    AccountManager,
    /// The assignee of the contact's open request.
    OpenRequest,
    /// The assignee of the contact's active dialog (D2).
    ActiveDialog,
}

/// The agents who could be responsible for a contact, as the caller found them in the store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsibleSources {
    /// K3: the contact's account manager (`Contact::responsible_agent`).
    pub account_manager: Option<AgentId>,
    /// The assignee of the contact's open request, if it has one.
    pub open_request_assignee: Option<AgentId>,
    /// The assignee of the contact's active dialog, if it has one.
    pub active_dialog_assignee: Option<AgentId>,
}

/// The agent responsible for a contact, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ResponsibleAgent {
    /// The agent.
    pub agent: AgentId,
    /// Why they are responsible.
    pub basis: Responsibility,
}

impl ResponsibleSources {
    /// R4: the responsible agent, in this priority order: the account manager, then the
    /// assignee of the open request, then the assignee of the active dialog. The account
    /// manager is a standing choice of the business (K3), so it wins over whoever happens to
    /// hold the contact's current work.
    #[must_use]
    pub fn responsible(&self) -> Option<ResponsibleAgent> {
        let ranked = [
            (self.account_manager, Responsibility::AccountManager),
            (self.open_request_assignee, Responsibility::OpenRequest),
            (self.active_dialog_assignee, Responsibility::ActiveDialog),
        ];
        ranked
            .into_iter()
            .find_map(|(agent, basis)| agent.map(|agent| ResponsibleAgent { agent, basis }))
    }
}

/// R4: a task to create for the responsible agent who could not take the conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReturningTask {
    /// The agent whose task list gets it.
    pub agent: AgentId,
    /// The contact who wrote again.
    pub contact: ContactId,
    /// The conversation they wrote in.
    pub conversation: ConversationId,
}

impl ReturningTask {
    /// The task's source, as stored on the task (N2).
    #[must_use]
    pub const fn source(&self) -> TaskSource {
        TaskSource::ReturningContact {
            contact: self.contact,
            conversation: self.conversation,
        }
    }

    /// The task's title: "`contact_name` wrote again".
    #[must_use]
    pub fn title(contact_name: &str) -> String {
        format!("{contact_name} wrote again")
    }
}

/// R4: where a returning contact's conversation goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReturningRouting {
    /// The agent chosen, or wait in the queue.
    pub choice: RoutingChoice,
    /// A task to create for the responsible agent, when they could not take it.
    pub task: Option<ReturningTask>,
}

/// R4: routes the conversation of a returning `contact`.
///
/// `responsible` is the snapshot of the contact's responsible agent (see
/// [`ResponsibleSources::responsible`]), `None` when they have none. When that agent is
/// `available`, has a free slot and is not in `ctx.skip` (R6), the conversation goes to them,
/// whatever the queue's strategy (even `manual`). Otherwise they get a [`ReturningTask`] and
/// the conversation is routed among `candidates` by `strategy`, as any other.
#[must_use]
pub fn route_returning(
    contact: ContactId,
    conversation: ConversationId,
    responsible: Option<&Candidate>,
    strategy: RoutingStrategy,
    candidates: &[Candidate],
    ctx: RoutingContext<'_>,
) -> ReturningRouting {
    match responsible {
        Some(agent) if agent.is_eligible() && !ctx.skip.contains(&agent.agent) => {
            ReturningRouting {
                choice: RoutingChoice::Agent(agent.agent),
                task: None,
            }
        }
        _ => ReturningRouting {
            choice: choose_agent(strategy, candidates, ctx),
            task: responsible.map(|agent| ReturningTask {
                agent: agent.agent,
                contact,
                conversation,
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::Availability;
    use crate::routing::fixtures::{agent, candidate};

    const CONTACT: ContactId = ContactId::from_u128(70);
    const CONVERSATION: ConversationId = ConversationId::from_u128(80);

    fn route(responsible: Option<&Candidate>, candidates: &[Candidate]) -> ReturningRouting {
        route_returning(
            CONTACT,
            CONVERSATION,
            responsible,
            RoutingStrategy::LeastLoaded,
            candidates,
            RoutingContext::default(),
        )
    }

    #[test]
    fn r4_responsible_priority_is_manager_then_request_then_dialog() {
        let all = ResponsibleSources {
            account_manager: Some(agent(1)),
            open_request_assignee: Some(agent(2)),
            active_dialog_assignee: Some(agent(3)),
        };
        assert_eq!(
            all.responsible(),
            Some(ResponsibleAgent {
                agent: agent(1),
                basis: Responsibility::AccountManager
            })
        );
        let no_manager = ResponsibleSources {
            account_manager: None,
            ..all
        };
        assert_eq!(
            no_manager.responsible(),
            Some(ResponsibleAgent {
                agent: agent(2),
                basis: Responsibility::OpenRequest
            })
        );
        let dialog_only = ResponsibleSources {
            active_dialog_assignee: Some(agent(3)),
            ..ResponsibleSources::default()
        };
        assert_eq!(
            dialog_only.responsible().map(|r| r.basis),
            Some(Responsibility::ActiveDialog)
        );
        assert_eq!(ResponsibleSources::default().responsible(), None);
    }

    #[test]
    fn r4_available_responsible_agent_gets_the_conversation() {
        // Agent 1 is more loaded than agent 2, but is the contact's agent.
        let mine = candidate(1).with_load(3, 0, 5);
        let routing = route(Some(&mine), &[mine, candidate(2)]);
        assert_eq!(routing.choice, RoutingChoice::Agent(agent(1)));
        assert_eq!(routing.task, None);
    }

    #[test]
    fn r4_responsible_agent_wins_even_in_a_manual_queue() {
        let mine = candidate(1);
        let routing = route_returning(
            CONTACT,
            CONVERSATION,
            Some(&mine),
            RoutingStrategy::Manual,
            &[],
            RoutingContext::default(),
        );
        assert_eq!(routing.choice, RoutingChoice::Agent(agent(1)));
    }

    #[test]
    fn r4_unavailable_responsible_agent_gets_a_task_and_the_queue_routes() {
        for mine in [
            candidate(1).with_availability(Availability::Busy),
            candidate(1).with_availability(Availability::Offline),
            candidate(1).with_availability(Availability::Rona),
            candidate(1).with_load(4, 1, 5),
        ] {
            let routing = route(Some(&mine), &[mine, candidate(2)]);
            assert_eq!(routing.choice, RoutingChoice::Agent(agent(2)), "{mine:?}");
            let task = routing.task.unwrap();
            assert_eq!(
                task,
                ReturningTask {
                    agent: agent(1),
                    contact: CONTACT,
                    conversation: CONVERSATION,
                }
            );
            assert_eq!(
                task.source(),
                TaskSource::ReturningContact {
                    contact: CONTACT,
                    conversation: CONVERSATION,
                }
            );
        }
        assert_eq!(ReturningTask::title("Layla"), "Layla wrote again");
    }

    #[test]
    fn r4_task_is_created_even_when_the_queue_must_wait() {
        let mine = candidate(1).with_availability(Availability::Busy);
        let routing = route(Some(&mine), &[mine]);
        assert_eq!(routing.choice, RoutingChoice::Wait);
        assert_eq!(routing.task.map(|t| t.agent), Some(agent(1)));
    }

    #[test]
    fn r4_without_responsible_agent_the_queue_routes_and_no_task() {
        let routing = route(None, &[candidate(2)]);
        assert_eq!(routing.choice, RoutingChoice::Agent(agent(2)));
        assert_eq!(routing.task, None);
    }

    #[test]
    fn r6_responsible_agent_who_let_it_time_out_is_skipped() {
        let mine = candidate(1);
        let routing = route_returning(
            CONTACT,
            CONVERSATION,
            Some(&mine),
            RoutingStrategy::LeastLoaded,
            &[mine, candidate(2)],
            RoutingContext {
                skip: &[agent(1)],
                last_chosen: None,
            },
        );
        assert_eq!(routing.choice, RoutingChoice::Agent(agent(2)));
        assert_eq!(routing.task.map(|t| t.agent), Some(agent(1)));
    }
}
