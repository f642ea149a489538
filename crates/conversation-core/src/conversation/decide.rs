//! `decide`: which events a command causes, or why it is refused. Pure: reads the state and the
//! command, never mutates. One function per group of commands keeps each rule readable.

use super::command::{ConversationCommand, Reply, ReplyKind, StartConversation, TransferTarget};
use super::event::{ConversationEvent, ConversationEventKind as Kind};
use super::state::{Assignment, Conversation, ConversationState};
use crate::Timestamp;
use crate::actor::{Actor, Principal};
use crate::dialog::check_agent_write;
use crate::error::{DomainError, DomainResult};
use crate::ids::{AgentId, QueueId, WrapUpReasonId};
use crate::permissions::{self, ConversationAccess};

impl Conversation {
    /// C2: the events that start a conversation with its first inbound message.
    #[must_use]
    pub fn decide_start(start: &StartConversation, now: Timestamp) -> Vec<ConversationEvent> {
        let actor = Actor::Contact(start.contact);
        let bot_flow = start
            .bot_flow
            .clone()
            .filter(|flow| !flow.trim().is_empty());
        vec![
            ConversationEvent {
                conversation: start.id,
                at: now,
                actor,
                kind: Kind::Started {
                    account: start.account,
                    inbox: start.inbox,
                    channel: start.channel,
                    contact: start.contact,
                    queue: start.queue,
                    bot_flow,
                },
            },
            ConversationEvent {
                conversation: start.id,
                at: now,
                actor,
                kind: Kind::InboundReceived {
                    message: start.message,
                    dialog: None,
                },
            },
        ]
    }

    /// The events a command causes, or the reason it is refused. Never mutates.
    ///
    /// # Errors
    /// A [`DomainError`] with the code of the broken rule; see `docs/state-machines.md`.
    pub fn decide(
        &self,
        command: &ConversationCommand,
        now: Timestamp,
    ) -> DomainResult<Vec<ConversationEvent>> {
        use ConversationCommand as C;
        let by_agent = |p: &Principal| p.actor();
        let kinds: Vec<(Actor, Kind)> = match command {
            C::ReceiveInbound {
                message,
                queue,
                dialog,
            } => self.receive_inbound(*message, *queue, *dialog),
            C::SendReply { by, reply } => {
                self.check_reply(by, reply, now)?;
                vec![(by_agent(by), reply_sent(reply))]
            }
            C::Resolve {
                by,
                wrap_up,
                closing,
                wrap_up_mandatory,
            } => self.resolve(by, *wrap_up, closing.as_ref(), *wrap_up_mandatory, now)?,
            C::Drop {
                by,
                member_of_queue,
            } => vec![(by_agent(by), self.drop_by(by, *member_of_queue)?)],
            C::Reopen {
                by,
                reply_window,
                queue,
            } => {
                if !self.is_closed() {
                    return Err(self.invalid("reopen"));
                }
                self.check_window(*reply_window, now)?;
                vec![(by_agent(by), Kind::Reopened { queue: *queue })]
            }
            C::AssignAgent { by, agent } => self.assign_agent(by, *agent)?.into_iter().collect(),
            C::AssignQueue { by, queue } => vec![(by_agent(by), self.assign_queue(by, *queue)?)],
            C::Claim {
                by,
                member_of_queue,
            } => vec![(by_agent(by), self.claim(by, *member_of_queue)?)],
            C::RouteAssign { agent } => {
                self.check_routable(*agent, "assign")?;
                vec![(
                    Actor::System,
                    Kind::Assigned {
                        agent: *agent,
                        released: None,
                    },
                )]
            }
            C::RouteOffer { agent, deadline } => {
                self.check_routable(*agent, "offer")?;
                if *deadline <= now {
                    return Err(DomainError::InvalidValue {
                        field: "deadline",
                        reason: "must be in the future",
                    });
                }
                vec![(
                    Actor::System,
                    Kind::Offered {
                        agent: *agent,
                        deadline: *deadline,
                    },
                )]
            }
            C::AcceptOffer { agent } => {
                let deadline = self.offer_deadline_for(*agent)?;
                if now > deadline {
                    return Err(DomainError::OfferExpired);
                }
                vec![(Actor::Agent(*agent), Kind::OfferAccepted { agent: *agent })]
            }
            C::DeclineOffer { agent } => {
                self.offer_deadline_for(*agent)?;
                vec![(Actor::Agent(*agent), Kind::OfferDeclined { agent: *agent })]
            }
            C::ExpireOffer { agent } => match self.offer_deadline_for(*agent) {
                // A stale timer (the offer was accepted, declined or replaced) changes nothing.
                Ok(deadline) if now >= deadline => {
                    vec![(Actor::System, Kind::OfferTimedOut { agent: *agent })]
                }
                _ => Vec::new(),
            },
            C::Transfer {
                by,
                target,
                wrap_up,
            } => {
                vec![(by_agent(by), self.transfer(by, *target, *wrap_up, now)?)]
            }
            C::InviteToConference {
                by,
                invitee,
                available,
                deadline,
            } => {
                vec![(
                    by_agent(by),
                    self.invite(by, *invitee, *available, *deadline, now)?,
                )]
            }
            C::AcceptConference { agent } => {
                let deadline = self.invitation_deadline_for(*agent)?;
                if now > deadline {
                    return Err(DomainError::OfferExpired);
                }
                vec![(
                    Actor::Agent(*agent),
                    Kind::ConferenceJoined { agent: *agent },
                )]
            }
            C::DeclineConference { agent } => {
                self.invitation_deadline_for(*agent)?;
                vec![(
                    Actor::Agent(*agent),
                    Kind::ConferenceDeclined { agent: *agent },
                )]
            }
            C::LeaveConference { agent, wrap_up } => {
                vec![(
                    Actor::Agent(*agent),
                    self.leave_conference(*agent, *wrap_up)?,
                )]
            }
            C::HandToBot { by, flow } => vec![(by_agent(by), self.hand_to_bot(by, flow)?)],
            C::HandBack { queue } => match self.state {
                ConversationState::Bot { .. } => {
                    vec![(Actor::Integration, Kind::HandedBack { queue: *queue })]
                }
                _ => return Err(self.invalid("hand back from a bot")),
            },
            C::Interrupt { cause } => self.interrupt(*cause).into_iter().collect(),
            C::Requeue { agent, queue } => match self.assignment() {
                Some(Assignment::Assigned { agent: holder, .. }) if holder == agent => vec![(
                    Actor::System,
                    Kind::Queued {
                        queue: *queue,
                        released: Some(*agent),
                    },
                )],
                // The agent no longer holds it: nothing to requeue.
                _ => Vec::new(),
            },
        };
        Ok(kinds
            .into_iter()
            .map(|(actor, kind)| ConversationEvent {
                conversation: self.id,
                at: now,
                actor,
                kind,
            })
            .collect())
    }

    fn invalid(&self, command: &'static str) -> DomainError {
        DomainError::InvalidTransition {
            machine: "conversation",
            state: self.state.name(),
            command,
        }
    }

    /// The assignment of a live conversation, or why there is none.
    fn live_assignment(&self, command: &'static str) -> DomainResult<&Assignment> {
        match &self.state {
            ConversationState::Open { assignment } => Ok(assignment),
            ConversationState::Interrupted { .. } => Err(DomainError::ConversationInterrupted),
            _ => Err(self.invalid(command)),
        }
    }

    fn receive_inbound(
        &self,
        message: crate::ids::MessageId,
        queue: Option<QueueId>,
        dialog: Option<crate::ids::DialogId>,
    ) -> Vec<(Actor, Kind)> {
        let contact = Actor::Contact(self.contact);
        let mut kinds = Vec::with_capacity(2);
        if self.is_closed() {
            kinds.push((contact, Kind::Reopened { queue }));
        }
        kinds.push((contact, Kind::InboundReceived { message, dialog }));
        kinds
    }

    /// C4: the reply window, counted from the contact's last inbound message.
    fn check_window(&self, window: Option<chrono::Duration>, now: Timestamp) -> DomainResult<()> {
        match self.reply_window_closes_at(window) {
            Some(closes) if now > closes => Err(DomainError::ReplyWindowClosed {
                closed_for: now - closes,
            }),
            _ => Ok(()),
        }
    }

    /// C4, C7, D5, D6, R9: whether this agent may write this message now.
    fn check_reply(&self, by: &Principal, reply: &Reply, now: Timestamp) -> DomainResult<()> {
        if matches!(self.state, ConversationState::Interrupted { .. }) {
            return Err(DomainError::ConversationInterrupted);
        }
        if reply.kind == ReplyKind::Note {
            if reply.dialog.is_some() {
                check_agent_write(reply.dialog, &reply.dialogs)?;
            }
            return Ok(());
        }
        let held_by_other = self.load_holder().is_some_and(|holder| holder != by.agent)
            && !self.writers().contains(&by.agent);
        if held_by_other && !permissions::can_see_all(by) {
            return Err(DomainError::Forbidden {
                action: "write to the contact of a conversation another agent handles",
            });
        }
        match reply.kind {
            ReplyKind::FreeForm => self.check_window(reply.policy.reply_window, now)?,
            ReplyKind::Template if !reply.policy.templates => {
                return Err(DomainError::CapabilityUnsupported {
                    capability: "templates",
                });
            }
            ReplyKind::Template | ReplyKind::Note => {}
        }
        check_agent_write(reply.dialog, &reply.dialogs)
    }

    fn resolve(
        &self,
        by: &Principal,
        wrap_up: Option<WrapUpReasonId>,
        closing: Option<&Reply>,
        wrap_up_mandatory: bool,
        now: Timestamp,
    ) -> DomainResult<Vec<(Actor, Kind)>> {
        let actor = by.actor();
        match &self.state {
            ConversationState::Resolved { .. } | ConversationState::Dropped { .. } => {
                Err(self.invalid("resolve"))
            }
            ConversationState::Interrupted { agents, .. } => {
                // C7: the only action left: end it with a wrap-up reason, sending nothing.
                if !permissions::can_see_all(by) && !agents.contains(&by.agent) {
                    return Err(DomainError::Forbidden {
                        action: "end this conversation",
                    });
                }
                if closing.is_some() {
                    return Err(DomainError::ConversationInterrupted);
                }
                let wrap_up = wrap_up.ok_or(DomainError::WrapUpRequired)?;
                Ok(vec![(
                    actor,
                    Kind::Resolved {
                        wrap_up: Some(wrap_up),
                        released: None,
                    },
                )])
            }
            ConversationState::Open { .. } | ConversationState::Bot { .. } => {
                if !permissions::can_resolve(by, self.assignee()) {
                    return Err(DomainError::Forbidden {
                        action: "resolve this conversation",
                    });
                }
                if wrap_up_mandatory && wrap_up.is_none() {
                    return Err(DomainError::WrapUpRequired);
                }
                let mut kinds = Vec::with_capacity(2);
                if let Some(reply) = closing {
                    self.check_reply(by, reply, now)?;
                    kinds.push((actor, reply_sent(reply)));
                }
                kinds.push((
                    actor,
                    Kind::Resolved {
                        wrap_up,
                        released: self.load_holder(),
                    },
                ));
                Ok(kinds)
            }
        }
    }

    fn drop_by(&self, by: &Principal, member_of_queue: bool) -> DomainResult<Kind> {
        self.live_assignment("drop")?;
        let access = ConversationAccess {
            assignee: self.load_holder(),
            member_of_queue,
            participant: false,
        };
        if !permissions::can_drop(by, access) {
            return Err(DomainError::Forbidden {
                action: "drop this conversation",
            });
        }
        Ok(Kind::Dropped {
            released: self.load_holder(),
        })
    }

    fn assign_agent(&self, by: &Principal, agent: AgentId) -> DomainResult<Option<(Actor, Kind)>> {
        if !permissions::can_assign(by) {
            return Err(DomainError::Forbidden {
                action: "assign conversations",
            });
        }
        match self.live_assignment("assign")? {
            Assignment::ConferenceRequested { .. } | Assignment::Conference { .. } => {
                Err(self.invalid("assign"))
            }
            Assignment::Assigned { agent: holder, .. } if *holder == agent => Ok(None),
            _ => {
                let released = self.load_holder().filter(|holder| *holder != agent);
                Ok(Some((by.actor(), Kind::Assigned { agent, released })))
            }
        }
    }

    fn assign_queue(&self, by: &Principal, queue: QueueId) -> DomainResult<Kind> {
        if !permissions::can_assign(by) {
            return Err(DomainError::Forbidden {
                action: "assign conversations",
            });
        }
        match self.live_assignment("assign to a queue")? {
            Assignment::ConferenceRequested { .. } | Assignment::Conference { .. } => {
                Err(self.invalid("assign to a queue"))
            }
            _ => Ok(Kind::Queued {
                queue: Some(queue),
                released: self.load_holder(),
            }),
        }
    }

    fn claim(&self, by: &Principal, member_of_queue: bool) -> DomainResult<Kind> {
        match self.live_assignment("claim")? {
            Assignment::Waiting { .. } | Assignment::Unassigned => {
                if !member_of_queue && !permissions::can_see_all(by) {
                    return Err(DomainError::Forbidden {
                        action: "claim from a queue you are not in",
                    });
                }
                Ok(Kind::Assigned {
                    agent: by.agent,
                    released: None,
                })
            }
            _ => Err(self.invalid("claim")),
        }
    }

    /// R3, R6: routing may only hand out a conversation nobody holds, and never to an agent
    /// who already let it time out.
    fn check_routable(&self, agent: AgentId, command: &'static str) -> DomainResult<()> {
        match self.live_assignment(command)? {
            Assignment::Waiting { .. } | Assignment::Unassigned => {}
            _ => return Err(self.invalid(command)),
        }
        if self.skipped_agents.contains(&agent) {
            return Err(DomainError::InvalidValue {
                field: "agent",
                reason: "already let this conversation time out or declined it",
            });
        }
        Ok(())
    }

    fn offer_deadline_for(&self, agent: AgentId) -> DomainResult<Timestamp> {
        match self.assignment() {
            Some(Assignment::Offered {
                agent: offered,
                deadline,
                ..
            }) if *offered == agent => Ok(*deadline),
            _ => Err(DomainError::OfferNotFound),
        }
    }

    fn invitation_deadline_for(&self, agent: AgentId) -> DomainResult<Timestamp> {
        match self.assignment() {
            Some(Assignment::ConferenceRequested {
                invitee, deadline, ..
            }) if *invitee == agent => Ok(*deadline),
            _ => Err(DomainError::OfferNotFound),
        }
    }

    /// The agent who accepted it, checked to be the one acting (R8, R9).
    fn accepted_by(&self, by: &Principal, command: &'static str) -> DomainResult<AgentId> {
        match self.live_assignment(command)? {
            Assignment::Assigned { agent, .. } if *agent == by.agent => Ok(*agent),
            Assignment::ConferenceRequested { .. } | Assignment::Conference { .. } => {
                Err(self.invalid(command))
            }
            _ => Err(DomainError::Forbidden {
                action: "do this: only the agent who accepted may",
            }),
        }
    }

    fn transfer(
        &self,
        by: &Principal,
        target: TransferTarget,
        wrap_up: Option<WrapUpReasonId>,
        now: Timestamp,
    ) -> DomainResult<Kind> {
        let from = self.accepted_by(by, "transfer")?;
        let wrap_up = wrap_up.ok_or(DomainError::WrapUpRequired)?;
        if let TransferTarget::Agent {
            agent,
            available,
            deadline,
            ..
        } = target
        {
            if agent == from {
                return Err(DomainError::InvalidValue {
                    field: "target",
                    reason: "cannot transfer to yourself",
                });
            }
            if !available {
                return Err(DomainError::AgentUnavailable { agent });
            }
            if deadline <= now {
                return Err(DomainError::InvalidValue {
                    field: "deadline",
                    reason: "must be in the future",
                });
            }
        }
        Ok(Kind::Transferred {
            from,
            target,
            wrap_up,
        })
    }

    fn invite(
        &self,
        by: &Principal,
        invitee: AgentId,
        available: bool,
        deadline: Timestamp,
        now: Timestamp,
    ) -> DomainResult<Kind> {
        let owner = self.accepted_by(by, "invite to a conference")?;
        if invitee == owner {
            return Err(DomainError::InvalidValue {
                field: "invitee",
                reason: "cannot invite yourself",
            });
        }
        if !available {
            return Err(DomainError::AgentUnavailable { agent: invitee });
        }
        if deadline <= now {
            return Err(DomainError::InvalidValue {
                field: "deadline",
                reason: "must be in the future",
            });
        }
        Ok(Kind::ConferenceRequested { invitee, deadline })
    }

    fn leave_conference(
        &self,
        agent: AgentId,
        wrap_up: Option<WrapUpReasonId>,
    ) -> DomainResult<Kind> {
        let Assignment::Conference {
            agent: owner,
            guest,
            ..
        } = self.live_assignment("leave a conference")?
        else {
            return Err(self.invalid("leave a conference"));
        };
        let remaining = if agent == *owner {
            *guest
        } else if agent == *guest {
            *owner
        } else {
            return Err(DomainError::Forbidden {
                action: "leave a conference you are not in",
            });
        };
        let wrap_up = wrap_up.ok_or(DomainError::WrapUpRequired)?;
        Ok(Kind::ConferenceLeft {
            agent,
            wrap_up,
            remaining,
        })
    }

    fn hand_to_bot(&self, by: &Principal, flow: &str) -> DomainResult<Kind> {
        match self.live_assignment("hand to a bot")? {
            Assignment::ConferenceRequested { .. } | Assignment::Conference { .. } => {
                return Err(self.invalid("hand to a bot"));
            }
            _ => {}
        }
        if !permissions::can_resolve(by, self.load_holder()) {
            return Err(DomainError::Forbidden {
                action: "hand this conversation to a bot",
            });
        }
        let flow = flow.trim();
        if flow.is_empty() {
            return Err(DomainError::MissingField { field: "flow" });
        }
        Ok(Kind::HandedToBot {
            flow: flow.to_owned(),
            released: self.load_holder(),
        })
    }

    /// C7: live conversations become interrupted; closed or already interrupted ones are left.
    fn interrupt(&self, cause: super::state::InterruptCause) -> Option<(Actor, Kind)> {
        let alerted = match &self.state {
            ConversationState::Open { assignment } => match assignment {
                Assignment::ConferenceRequested { agent, invitee, .. } => vec![*agent, *invitee],
                Assignment::Conference { agent, guest, .. } => vec![*agent, *guest],
                other => other.agent().into_iter().collect(),
            },
            ConversationState::Bot { .. } => Vec::new(),
            _ => return None,
        };
        Some((Actor::System, Kind::Interrupted { cause, alerted }))
    }
}

fn reply_sent(reply: &Reply) -> Kind {
    Kind::ReplySent {
        message: reply.message,
        kind: reply.kind,
        dialog: reply.dialog,
    }
}
