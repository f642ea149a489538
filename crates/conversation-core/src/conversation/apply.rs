//! `apply`: fold one event into the state. Total: an event always applies, so replaying a
//! stored log never fails; `decide` is where commands are refused.

use std::collections::BTreeSet;

use super::command::{ReplyKind, TransferTarget};
use super::event::{ConversationEvent, ConversationEventKind as Kind};
use super::state::{Assignment, Conversation, ConversationState};
use crate::Timestamp;
use crate::ids::QueueId;

impl Conversation {
    /// The conversation a `Started` event creates; `None` for any other event.
    #[must_use]
    pub fn from_started(event: &ConversationEvent) -> Option<Self> {
        let Kind::Started {
            account,
            inbox,
            channel,
            contact,
            queue,
            bot_flow,
        } = &event.kind
        else {
            return None;
        };
        let state = match bot_flow {
            Some(flow) => ConversationState::Bot { flow: flow.clone() },
            None => ConversationState::Open {
                assignment: waiting_in(*queue, event.at),
            },
        };
        Some(Self {
            id: event.conversation,
            account: *account,
            inbox: *inbox,
            channel: *channel,
            contact: *contact,
            state,
            created_at: event.at,
            last_inbound_at: None,
            last_message_at: None,
            waiting_since: None,
            skipped_agents: BTreeSet::new(),
        })
    }

    /// Rebuilds a conversation from its whole event log (the first event must be `Started`).
    #[must_use]
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a ConversationEvent>) -> Option<Self> {
        let mut events = events.into_iter();
        let mut conversation = Self::from_started(events.next()?)?;
        for event in events {
            conversation.apply(event);
        }
        Some(conversation)
    }

    /// Folds one event into the state.
    pub fn apply(&mut self, event: &ConversationEvent) {
        let at = event.at;
        let queue = self.assignment().and_then(Assignment::queue);
        match &event.kind {
            Kind::Started { .. } | Kind::ReplyOverdue { .. } => {}
            Kind::InboundReceived { .. } => {
                self.last_inbound_at = Some(at);
                self.last_message_at = Some(at);
                self.waiting_since.get_or_insert(at);
            }
            Kind::ReplySent { kind, .. } => {
                self.last_message_at = Some(at);
                if *kind != ReplyKind::Note {
                    self.waiting_since = None;
                }
            }
            Kind::Reopened { queue } | Kind::HandedBack { queue } | Kind::Queued { queue, .. } => {
                self.open(waiting_in(*queue, at));
            }
            Kind::Resolved { .. } => {
                let (queue, agent) = self.belongs_to();
                self.close(ConversationState::Resolved { at, queue, agent });
            }
            Kind::Dropped { .. } => {
                let (queue, agent) = self.belongs_to();
                self.close(ConversationState::Dropped { at, queue, agent });
            }
            Kind::Offered { agent, deadline } => {
                let queued_since = match self.assignment() {
                    Some(Assignment::Waiting { since, .. }) => *since,
                    _ => at,
                };
                self.state = ConversationState::Open {
                    assignment: Assignment::Offered {
                        queue,
                        agent: *agent,
                        offered_at: at,
                        queued_since,
                        deadline: *deadline,
                    },
                };
            }
            Kind::OfferDeclined { agent } | Kind::OfferTimedOut { agent } => {
                let since = match self.assignment() {
                    Some(Assignment::Offered { queued_since, .. }) => *queued_since,
                    _ => at,
                };
                self.skipped_agents.insert(*agent);
                self.state = ConversationState::Open {
                    assignment: waiting_in(queue, since),
                };
            }
            Kind::OfferAccepted { agent } | Kind::Assigned { agent, .. } => {
                self.open(Assignment::Assigned {
                    queue,
                    agent: *agent,
                    since: at,
                });
            }
            Kind::Transferred { target, .. } => match *target {
                TransferTarget::Queue { queue } => self.open(waiting_in(Some(queue), at)),
                TransferTarget::Agent {
                    agent,
                    queue,
                    deadline,
                    ..
                } => {
                    self.open(Assignment::Offered {
                        queue,
                        agent,
                        offered_at: at,
                        queued_since: at,
                        deadline,
                    });
                }
            },
            Kind::ConferenceRequested { invitee, deadline } => {
                if let Some(agent) = self.assignee() {
                    self.state = ConversationState::Open {
                        assignment: Assignment::ConferenceRequested {
                            queue,
                            agent,
                            invitee: *invitee,
                            deadline: *deadline,
                        },
                    };
                }
            }
            Kind::ConferenceJoined { agent: guest } => {
                if let Some(agent) = self.assignee() {
                    self.state = ConversationState::Open {
                        assignment: Assignment::Conference {
                            queue,
                            agent,
                            guest: *guest,
                        },
                    };
                }
            }
            Kind::ConferenceDeclined { .. } => {
                if let Some(agent) = self.assignee() {
                    self.state = ConversationState::Open {
                        assignment: Assignment::Assigned {
                            queue,
                            agent,
                            since: at,
                        },
                    };
                }
            }
            Kind::ConferenceLeft { remaining, .. } => {
                self.state = ConversationState::Open {
                    assignment: Assignment::Assigned {
                        queue,
                        agent: *remaining,
                        since: at,
                    },
                };
            }
            Kind::HandedToBot { flow, .. } => {
                self.state = ConversationState::Bot { flow: flow.clone() };
            }
            Kind::Interrupted { cause, alerted } => {
                self.state = ConversationState::Interrupted {
                    cause: *cause,
                    agents: alerted.iter().copied().collect(),
                };
            }
        }
    }

    /// A new routing episode: the skip list starts empty.
    fn open(&mut self, assignment: Assignment) {
        self.skipped_agents.clear();
        self.state = ConversationState::Open { assignment };
    }

    fn close(&mut self, state: ConversationState) {
        self.skipped_agents.clear();
        self.waiting_since = None;
        self.state = state;
    }
}

fn waiting_in(queue: Option<QueueId>, since: Timestamp) -> Assignment {
    queue.map_or(Assignment::Unassigned, |queue| Assignment::Waiting {
        queue,
        since,
    })
}
