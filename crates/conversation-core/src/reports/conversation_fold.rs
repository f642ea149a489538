//! P1: one conversation's events, in log order, into report facts. The fold keeps only what the
//! formulas need (the open episode's start, the armed first-response clock, `waiting_since`,
//! the running agent segments, who completed each dialog) and is serializable, so a store can
//! keep it between catch-ups. Formulas (`docs/reports.md`):
//!
//! - `opened` at `Started`; `reopened` at `Reopened`; `resolved`, `dropped` at theirs.
//! - `first_response`: the clock is armed at creation (unless the conversation starts in a bot
//!   flow), at a bot's handoff and at a reopen (each re-arms it: the latest counts), disarmed by
//!   a hand to a bot or a close; the first free-form or template reply written by an agent
//!   while it is armed gives one fact, from the arming time to the reply.
//! - `reply`: from `waiting_since` (the first contact message with no later reply, C8) to the
//!   agent's reply; any non-note reply or a close ends the wait, as the conversation does.
//! - `time_to_close`: from the episode's start (creation or reopen) to `Resolved`. A reopen
//!   starts a new episode, so the closed gap between two episodes is never counted.
//! - `handle_time`: per agent segment, from accepting (offer accepted, assigned, joining a
//!   conference) to the end of their part (resolve, drop, transfer, requeue, hand to a bot,
//!   reassignment, leaving a conference).
//! - `wrap_up`: each reason given (resolve, transfer, leaving a conference).
//! - `contact_rating` (D12) and `satisfaction` (D13) of the conversation's dialogs, credited to
//!   the agent who completed the dialog.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::fact::{Fact, Metric};
use super::summary::seconds_between;
use crate::Timestamp;
use crate::actor::Actor;
use crate::conversation::{
    ConversationEvent, ConversationEventKind as Kind, ReplyKind, TransferTarget,
};
use crate::dialog::DialogEvent;
use crate::events::DomainEvent;
use crate::ids::{AgentId, DialogId, InboxId, QueueId, WrapUpReasonId};

/// The report state of one conversation between events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationFold {
    /// Its inbox (from `Started`).
    pub inbox: Option<InboxId>,
    /// Its queue now.
    pub queue: Option<QueueId>,
    /// Its assignee now.
    pub holder: Option<AgentId>,
    /// The start of the open episode; `None` while closed.
    pub episode_start: Option<Timestamp>,
    /// Since when a first human reply is awaited; `None` when the clock is not armed.
    pub first_response_from: Option<Timestamp>,
    /// C8: since when the contact awaits a reply.
    pub waiting_since: Option<Timestamp>,
    /// The running segment of each agent handling it (assignee, conference guest).
    pub segments: BTreeMap<AgentId, Timestamp>,
    /// The agent who completed each of its dialogs, for the ratings.
    pub completed_by: BTreeMap<DialogId, AgentId>,
}

impl ConversationFold {
    /// Folds one event of this conversation (its own, or one of its dialogs') and appends the
    /// facts it completes to `facts`. Other events are ignored.
    pub fn fold(&mut self, event: &DomainEvent, facts: &mut Vec<Fact>) {
        match event {
            DomainEvent::Conversation(event) => self.conversation(event, facts),
            DomainEvent::Dialog { dialog, event, .. } => self.dialog(*dialog, event, facts),
            _ => {}
        }
    }

    fn fact(&self, at: Timestamp, metric: Metric, agent: Option<AgentId>) -> Fact {
        Fact {
            at,
            metric,
            inbox: self.inbox,
            queue: self.queue,
            agent,
            reason: None,
            value: None,
        }
    }

    fn timed(
        &self,
        at: Timestamp,
        metric: Metric,
        agent: Option<AgentId>,
        from: Timestamp,
    ) -> Fact {
        Fact {
            value: Some(seconds_between(from, at)),
            ..self.fact(at, metric, agent)
        }
    }

    fn wrap_up(&self, at: Timestamp, agent: Option<AgentId>, reason: WrapUpReasonId) -> Fact {
        Fact {
            reason: Some(reason),
            ..self.fact(at, Metric::WrapUp, agent)
        }
    }

    /// Ends every running segment (the holder's and a guest's) at `at`.
    fn end_segments(&mut self, at: Timestamp, facts: &mut Vec<Fact>) {
        for (agent, from) in std::mem::take(&mut self.segments) {
            facts.push(self.timed(at, Metric::HandleTime, Some(agent), from));
        }
    }

    fn end_segment(&mut self, agent: AgentId, at: Timestamp, facts: &mut Vec<Fact>) {
        if let Some(from) = self.segments.remove(&agent) {
            facts.push(self.timed(at, Metric::HandleTime, Some(agent), from));
        }
    }

    /// The end of an episode (resolved or dropped).
    fn close(&mut self, at: Timestamp, facts: &mut Vec<Fact>) {
        self.end_segments(at, facts);
        self.holder = None;
        self.first_response_from = None;
        self.waiting_since = None;
        self.episode_start = None;
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one match over every conversation event, each arm a formula of docs/reports.md"
    )]
    fn conversation(&mut self, event: &ConversationEvent, facts: &mut Vec<Fact>) {
        let at = event.at;
        let actor_agent = match event.actor {
            Actor::Agent(agent) => Some(agent),
            _ => None,
        };
        match &event.kind {
            Kind::Started {
                inbox,
                queue,
                bot_flow,
                ..
            } => {
                self.inbox = Some(*inbox);
                self.queue = *queue;
                self.episode_start = Some(at);
                self.first_response_from = bot_flow.is_none().then_some(at);
                facts.push(self.fact(at, Metric::Opened, None));
            }
            Kind::InboundReceived { .. } => {
                self.waiting_since.get_or_insert(at);
            }
            Kind::Reopened { queue } => {
                self.end_segments(at, facts);
                self.queue = *queue;
                self.holder = None;
                self.episode_start = Some(at);
                self.first_response_from = Some(at);
                facts.push(self.fact(at, Metric::Reopened, None));
            }
            Kind::ReplySent { kind, .. } => {
                if *kind == ReplyKind::Note {
                    return;
                }
                if let Some(agent) = actor_agent {
                    if let Some(from) = self.first_response_from.take() {
                        facts.push(self.timed(at, Metric::FirstResponse, Some(agent), from));
                    }
                    if let Some(from) = self.waiting_since {
                        facts.push(self.timed(at, Metric::Reply, Some(agent), from));
                    }
                }
                self.waiting_since = None;
            }
            Kind::Resolved { wrap_up, released } => {
                let agent = released.or(self.holder).or(actor_agent);
                facts.push(self.fact(at, Metric::Resolved, agent));
                if let Some(reason) = wrap_up {
                    facts.push(self.wrap_up(at, agent, *reason));
                }
                if let Some(from) = self.episode_start {
                    facts.push(self.timed(at, Metric::TimeToClose, agent, from));
                }
                self.close(at, facts);
            }
            Kind::Dropped { released } => {
                let agent = released.or(self.holder).or(actor_agent);
                facts.push(self.fact(at, Metric::Dropped, agent));
                self.close(at, facts);
            }
            Kind::Queued { queue, .. } => {
                self.end_segments(at, facts);
                self.queue = *queue;
                self.holder = None;
            }
            Kind::OfferAccepted { agent } | Kind::Assigned { agent, .. } => {
                if self.holder != Some(*agent) {
                    self.end_segments(at, facts);
                }
                self.holder = Some(*agent);
                self.segments.entry(*agent).or_insert(at);
            }
            Kind::Transferred {
                from,
                target,
                wrap_up,
            } => {
                facts.push(self.wrap_up(at, Some(*from), *wrap_up));
                self.end_segments(at, facts);
                self.holder = None;
                self.queue = match target {
                    TransferTarget::Queue { queue } => Some(*queue),
                    TransferTarget::Agent { queue, .. } => *queue,
                };
            }
            Kind::ConferenceJoined { agent } => {
                self.segments.entry(*agent).or_insert(at);
            }
            Kind::ConferenceLeft {
                agent,
                wrap_up,
                remaining,
            } => {
                facts.push(self.wrap_up(at, Some(*agent), *wrap_up));
                self.end_segment(*agent, at, facts);
                self.holder = Some(*remaining);
                self.segments.entry(*remaining).or_insert(at);
            }
            Kind::HandedToBot { .. } => {
                self.end_segments(at, facts);
                self.holder = None;
                self.first_response_from = None;
            }
            Kind::HandedBack { queue } => {
                self.queue = *queue;
                self.first_response_from = Some(at);
            }
            Kind::Offered { .. }
            | Kind::OfferDeclined { .. }
            | Kind::OfferTimedOut { .. }
            | Kind::ConferenceRequested { .. }
            | Kind::ConferenceDeclined { .. }
            | Kind::ReplyOverdue { .. }
            | Kind::Interrupted { .. } => {}
        }
    }

    fn dialog(&mut self, dialog: DialogId, event: &DialogEvent, facts: &mut Vec<Fact>) {
        match event {
            DialogEvent::Completed {
                at,
                by,
                contact_rating,
            } => {
                let agent = match by {
                    Actor::Agent(agent) => Some(*agent),
                    _ => self.holder,
                };
                if let Some(agent) = agent {
                    self.completed_by.insert(dialog, agent);
                }
                if let Some(stars) = contact_rating {
                    facts.push(Fact {
                        value: Some(u64::from(stars.get())),
                        ..self.fact(*at, Metric::ContactRating, agent)
                    });
                }
            }
            DialogEvent::SatisfactionRecorded { at, value, .. } => {
                let agent = self.completed_by.get(&dialog).copied().or(self.holder);
                facts.push(Fact {
                    value: Some(u64::from(value.value())),
                    ..self.fact(*at, Metric::Satisfaction, agent)
                });
            }
            _ => {}
        }
    }
}
