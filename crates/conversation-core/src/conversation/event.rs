//! What happened to a conversation: one event per change, with who did it and when (C12).
//! Names are past tense; events are serialized into the event log and must stay readable, so a
//! variant or field is only ever added (with `#[serde(default)]`), never renamed.

use serde::{Deserialize, Serialize};

use super::command::{ReplyKind, TransferTarget};
use super::state::InterruptCause;
use crate::Timestamp;
use crate::actor::Actor;
use crate::channel::ChannelKind;
use crate::ids::{
    AccountId, AgentId, ContactId, ConversationId, DialogId, InboxId, MessageId, QueueId,
    WrapUpReasonId,
};

/// One change of a conversation, with its time and author (C12).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationEvent {
    /// The conversation.
    pub conversation: ConversationId,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: Actor,
    /// What.
    #[serde(flatten)]
    pub kind: ConversationEventKind,
}

/// What changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConversationEventKind {
    /// C2: a conversation started.
    Started {
        /// The account.
        account: AccountId,
        /// The inbox.
        inbox: InboxId,
        /// The channel kind.
        channel: ChannelKind,
        /// The contact.
        contact: ContactId,
        /// The queue it waits in, when it starts open.
        queue: Option<QueueId>,
        /// The bot flow it starts in, if any.
        bot_flow: Option<String>,
    },
    /// C3: the contact wrote.
    InboundReceived {
        /// The message.
        message: MessageId,
        /// D5: the active dialog it went into.
        dialog: Option<DialogId>,
    },
    /// C3, C4: a closed conversation opened again and waits to be routed.
    Reopened {
        /// The queue it waits in.
        queue: Option<QueueId>,
    },
    /// An agent wrote a reply, template or note.
    ReplySent {
        /// The message.
        message: MessageId,
        /// Its kind.
        kind: ReplyKind,
        /// The dialog it was written in.
        dialog: Option<DialogId>,
    },
    /// C5: resolved; the assignee's capacity is freed.
    Resolved {
        /// The wrap-up reason.
        wrap_up: Option<WrapUpReasonId>,
        /// The agent whose load it leaves.
        released: Option<AgentId>,
    },
    /// C6: dropped; the assignee's capacity is freed.
    Dropped {
        /// The agent whose load it leaves.
        released: Option<AgentId>,
    },
    /// R5, R7, R11: it waits in a queue (manual assignment to a queue, or requeued), or with
    /// nobody when there is no queue.
    Queued {
        /// The queue, if any.
        queue: Option<QueueId>,
        /// The agent whose load it leaves.
        released: Option<AgentId>,
    },
    /// R3, R6: offered to an agent until the deadline.
    Offered {
        /// The agent.
        agent: AgentId,
        /// When it times out.
        deadline: Timestamp,
    },
    /// R6: the offer was accepted.
    OfferAccepted {
        /// The agent.
        agent: AgentId,
    },
    /// R6: the offer was declined; the agent is skipped by routing.
    OfferDeclined {
        /// The agent.
        agent: AgentId,
    },
    /// R6: the offer timed out; the agent goes `rona` and is skipped by routing.
    OfferTimedOut {
        /// The agent.
        agent: AgentId,
    },
    /// R3 direct mode, R5 claim, R7 manual: assigned to an agent.
    Assigned {
        /// The agent.
        agent: AgentId,
        /// The agent whose load it leaves, when it was someone else's.
        released: Option<AgentId>,
    },
    /// R8: transferred, with the wrap-up reason of the agent who gave it away.
    Transferred {
        /// The agent who gave it away.
        from: AgentId,
        /// Where to.
        target: TransferTarget,
        /// Their wrap-up reason.
        wrap_up: WrapUpReasonId,
    },
    /// R9: an agent was invited to a conference.
    ConferenceRequested {
        /// The invited agent.
        invitee: AgentId,
        /// When the invitation times out.
        deadline: Timestamp,
    },
    /// R9: the invitee joined ("X joined").
    ConferenceJoined {
        /// The agent who joined.
        agent: AgentId,
    },
    /// R9: the invitation was declined or timed out.
    ConferenceDeclined {
        /// The invitee.
        agent: AgentId,
    },
    /// R9: an agent left the conference with a wrap-up reason; the other one holds it.
    ConferenceLeft {
        /// The agent who left.
        agent: AgentId,
        /// Their wrap-up reason.
        wrap_up: WrapUpReasonId,
        /// The agent who holds it now.
        remaining: AgentId,
    },
    /// C11: handed to a bot flow; the assignee's capacity is freed.
    HandedToBot {
        /// The flow.
        flow: String,
        /// The agent whose load it leaves.
        released: Option<AgentId>,
    },
    /// C11: the bot flow handed it back; it waits to be routed.
    HandedBack {
        /// The queue it waits in.
        queue: Option<QueueId>,
    },
    /// C8: the contact's message waiting since `waiting_since` got no reply within the inbox's
    /// reply-time target: the conversation is flagged overdue (the red highlight). Recorded
    /// by the reply-target timer; changes no state (overdue is `Conversation::is_overdue`).
    ReplyOverdue {
        /// The awaiting reply's start, as it was when the target passed.
        waiting_since: Timestamp,
        /// The inbox's target, in seconds.
        target_secs: u32,
    },
    /// C7: interrupted; every agent listed gets an alert.
    Interrupted {
        /// What was deleted.
        cause: InterruptCause,
        /// The agents on it, who get the alert.
        alerted: Vec<AgentId>,
    },
}
