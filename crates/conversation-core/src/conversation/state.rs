//! The conversation's state: its status as a data-carrying enum and the facts C4 and C8 need.

use std::collections::BTreeSet;

use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::channel::ChannelKind;
use crate::ids::{AccountId, AgentId, ContactId, ConversationId, InboxId, QueueId};

/// C1: the four statuses lists and reports know. An interrupted conversation (C7) is `open`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// Handled by agents (or waiting for them).
    Open,
    /// A bot flow handles it; not in agent queues.
    Bot,
    /// Closed by an agent.
    Resolved,
    /// Dropped as unresponsive (C6); reported apart from resolved.
    Dropped,
}

/// C7: what an admin deleted under a live conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterruptCause {
    /// Its inbox was deleted.
    InboxDeleted,
    /// Its queue was deleted.
    QueueDeleted,
}

/// Who handles an open conversation (R5-R9). Each variant carries its own data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Assignment {
    /// In no queue and with nobody (its inbox routes to no queue).
    Unassigned,
    /// Waiting in a queue, visible to all its members, who may claim it (R5).
    Waiting {
        /// The queue.
        queue: QueueId,
        /// Since when: the backlog is served oldest first.
        since: Timestamp,
    },
    /// Offered to an agent, who must accept before the deadline (R6, R8).
    Offered {
        /// The queue it came through, where it waits if the offer fails.
        queue: Option<QueueId>,
        /// The agent.
        agent: AgentId,
        /// When the offer was made (the offer shows the time elapsed).
        offered_at: Timestamp,
        /// Since when it has waited to be handled: kept so that a failed offer puts it back
        /// in the backlog at its old place (R5).
        queued_since: Timestamp,
        /// When it times out.
        deadline: Timestamp,
    },
    /// Assigned to an agent (accepted, assigned directly, claimed, or assigned by hand).
    Assigned {
        /// The queue it came through, if any.
        queue: Option<QueueId>,
        /// The agent who holds it: the only one who may transfer it or invite (R8, R9).
        agent: AgentId,
        /// Since when.
        since: Timestamp,
    },
    /// The assignee invited another agent to a conference (R9).
    ConferenceRequested {
        /// The queue it came through, if any.
        queue: Option<QueueId>,
        /// The assignee who invited.
        agent: AgentId,
        /// The invited agent.
        invitee: AgentId,
        /// When the invitation times out.
        deadline: Timestamp,
    },
    /// Two agents write to the contact (R9).
    Conference {
        /// The queue it came through, if any.
        queue: Option<QueueId>,
        /// The assignee.
        agent: AgentId,
        /// The agent who joined.
        guest: AgentId,
    },
}

impl Assignment {
    /// The agent who holds the conversation, or is offered it.
    #[must_use]
    pub const fn agent(&self) -> Option<AgentId> {
        match self {
            Self::Unassigned | Self::Waiting { .. } => None,
            Self::Offered { agent, .. }
            | Self::Assigned { agent, .. }
            | Self::ConferenceRequested { agent, .. }
            | Self::Conference { agent, .. } => Some(*agent),
        }
    }

    /// The queue the conversation belongs to, if any.
    #[must_use]
    pub const fn queue(&self) -> Option<QueueId> {
        match self {
            Self::Unassigned => None,
            Self::Waiting { queue, .. } => Some(*queue),
            Self::Offered { queue, .. }
            | Self::Assigned { queue, .. }
            | Self::ConferenceRequested { queue, .. }
            | Self::Conference { queue, .. } => *queue,
        }
    }

    /// A short name of the state, for errors and logs.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Unassigned => "unassigned",
            Self::Waiting { .. } => "waiting",
            Self::Offered { .. } => "offered",
            Self::Assigned { .. } => "assigned",
            Self::ConferenceRequested { .. } => "conference_requested",
            Self::Conference { .. } => "conference",
        }
    }
}

/// The state of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConversationState {
    /// Handled by agents; who handles it is the assignment.
    Open {
        /// Who handles it.
        assignment: Assignment,
    },
    /// Handed to a bot flow (C11).
    Bot {
        /// The flow's name.
        flow: String,
    },
    /// Its inbox or queue was deleted (C7): only ending it with a wrap-up reason is left.
    Interrupted {
        /// What was deleted.
        cause: InterruptCause,
        /// The agents who were on it and got the alert; they may end it.
        agents: BTreeSet<AgentId>,
    },
    /// Closed by an agent.
    Resolved {
        /// When.
        at: Timestamp,
        /// The queue it was in when it closed: its members still see it (C9 `resolved`, A2).
        #[serde(default)]
        queue: Option<QueueId>,
        /// The agent who held it when it closed: they still see it (C9 `resolved`, A2).
        #[serde(default)]
        agent: Option<AgentId>,
    },
    /// Dropped as unresponsive (C6).
    Dropped {
        /// When.
        at: Timestamp,
        /// The queue it was in when it was dropped.
        #[serde(default)]
        queue: Option<QueueId>,
        /// The agent who held it when it was dropped.
        #[serde(default)]
        agent: Option<AgentId>,
    },
}

impl ConversationState {
    /// A short name of the state, for errors and logs.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Open { assignment } => assignment.name(),
            Self::Bot { .. } => "bot",
            Self::Interrupted { .. } => "interrupted",
            Self::Resolved { .. } => "resolved",
            Self::Dropped { .. } => "dropped",
        }
    }
}

/// The chat between one contact and the business on one inbox (C1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// Its id.
    pub id: ConversationId,
    /// The account.
    pub account: AccountId,
    /// The inbox.
    pub inbox: InboxId,
    /// The channel kind of the inbox (H1), shown on every conversation.
    pub channel: ChannelKind,
    /// The contact.
    pub contact: ContactId,
    /// Where it stands.
    pub state: ConversationState,
    /// When it started.
    pub created_at: Timestamp,
    /// The contact's last inbound message: the reply window counts from here (C4).
    pub last_inbound_at: Option<Timestamp>,
    /// The latest message of any kind.
    pub last_message_at: Option<Timestamp>,
    /// C8: the time of the oldest contact message with no later agent reply.
    pub waiting_since: Option<Timestamp>,
    /// R6: agents who let an offer of it time out (or declined it) since it was last accepted;
    /// routing skips them.
    pub skipped_agents: BTreeSet<AgentId>,
}

impl Conversation {
    /// C1: the status lists and reports know.
    #[must_use]
    pub const fn status(&self) -> ConversationStatus {
        match self.state {
            ConversationState::Open { .. } | ConversationState::Interrupted { .. } => {
                ConversationStatus::Open
            }
            ConversationState::Bot { .. } => ConversationStatus::Bot,
            ConversationState::Resolved { .. } => ConversationStatus::Resolved,
            ConversationState::Dropped { .. } => ConversationStatus::Dropped,
        }
    }

    /// Whether it is resolved or dropped (and so not counted by C1's one-open rule).
    #[must_use]
    pub const fn is_closed(&self) -> bool {
        matches!(
            self.state,
            ConversationState::Resolved { .. } | ConversationState::Dropped { .. }
        )
    }

    /// The assignment, when open and not interrupted.
    #[must_use]
    pub const fn assignment(&self) -> Option<&Assignment> {
        match &self.state {
            ConversationState::Open { assignment } => Some(assignment),
            _ => None,
        }
    }

    /// A2, C9: the queue and the agent it belongs to, for who may see it: while open, its
    /// queue and its assignee; once closed, the queue and the assignee it had when it closed,
    /// so that they still find it in their `resolved` list.
    #[must_use]
    pub fn belongs_to(&self) -> (Option<QueueId>, Option<AgentId>) {
        match &self.state {
            ConversationState::Resolved { queue, agent, .. }
            | ConversationState::Dropped { queue, agent, .. } => (*queue, *agent),
            _ => (
                self.assignment().and_then(Assignment::queue),
                self.assignee(),
            ),
        }
    }

    /// The agent it is assigned to (not merely offered to).
    #[must_use]
    pub fn assignee(&self) -> Option<AgentId> {
        match self.assignment()? {
            Assignment::Assigned { agent, .. }
            | Assignment::ConferenceRequested { agent, .. }
            | Assignment::Conference { agent, .. } => Some(*agent),
            Assignment::Unassigned | Assignment::Waiting { .. } | Assignment::Offered { .. } => {
                None
            }
        }
    }

    /// R2: the agent whose load this conversation counts toward: its assignee, or the agent
    /// with the outstanding offer. A conference guest's load is not counted (they help; the
    /// assignee holds it), nor is a conference invitation.
    #[must_use]
    pub fn load_holder(&self) -> Option<AgentId> {
        match self.assignment()? {
            Assignment::Offered { agent, .. } => Some(*agent),
            _ => self.assignee(),
        }
    }

    /// The agents who may write to the contact besides supervisors: the assignee and a
    /// conference guest (R9).
    #[must_use]
    pub fn writers(&self) -> Vec<AgentId> {
        match self.assignment() {
            Some(Assignment::Conference { agent, guest, .. }) => vec![*agent, *guest],
            _ => self.assignee().into_iter().collect(),
        }
    }

    /// C4: when the reply window closes, given the inbox's window; `None` when it never does.
    /// With a window and no inbound message yet, it is already closed.
    #[must_use]
    pub fn reply_window_closes_at(&self, window: Option<Duration>) -> Option<Timestamp> {
        let window = window?;
        Some(
            self.last_inbound_at
                .map_or(self.created_at, |last| last + window),
        )
    }

    /// C8: whether the awaiting reply is past the inbox's reply-time target.
    #[must_use]
    pub fn is_overdue(&self, target: Option<Duration>, now: Timestamp) -> bool {
        match (self.waiting_since, target) {
            (Some(since), Some(target)) => now - since > target,
            _ => false,
        }
    }
}
