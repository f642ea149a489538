//! What can be asked of a conversation. Names are imperative; each command carries every input
//! its rule needs from outside the conversation (inbox settings, the contact's dialogs, the
//! routing choice), so `decide` stays pure.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::state::InterruptCause;
use crate::Timestamp;
use crate::actor::Principal;
use crate::channel::ChannelKind;
use crate::dialog::ContactDialogs;
use crate::entities::Inbox;
use crate::ids::{
    AccountId, AgentId, ContactId, ConversationId, DialogId, InboxId, MessageId, QueueId,
    WrapUpReasonId,
};

/// C2: the first inbound message of a contact with no open conversation on the inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartConversation {
    /// The new conversation's id.
    pub id: ConversationId,
    /// The account.
    pub account: AccountId,
    /// The inbox.
    pub inbox: InboxId,
    /// The inbox's channel kind.
    pub channel: ChannelKind,
    /// The contact.
    pub contact: ContactId,
    /// The inbound message that starts it.
    pub message: MessageId,
    /// The queue the inbox routes to, if any.
    pub queue: Option<QueueId>,
    /// C2: the bot flow every new conversation of this inbox starts in, if any.
    pub bot_flow: Option<String>,
}

/// The inbox settings a reply or a close is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyPolicy {
    /// C4: the reply window in force; `None` means no limit.
    pub reply_window: Option<Duration>,
    /// C4, H2: whether the channel can send approved templates.
    pub templates: bool,
    /// R10: whether ending a live chat needs a wrap-up reason.
    pub wrap_up_mandatory: bool,
}

impl ReplyPolicy {
    /// The policy of an inbox, from its settings and channel.
    #[must_use]
    pub fn of(inbox: &Inbox) -> Self {
        let capabilities = inbox.capabilities();
        Self {
            reply_window: capabilities.reply_window,
            templates: capabilities.templates,
            wrap_up_mandatory: inbox.settings.wrap_up_mandatory,
        }
    }
}

/// What kind of message an agent writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    /// Free-form text or media to the contact: inside the reply window only (C4).
    FreeForm,
    /// An approved template: allowed outside the window where the channel has templates (C4).
    Template,
    /// A private note for agents (M10): no window, never reaches the contact.
    Note,
}

/// A message an agent writes in a conversation, with what its checks need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The message's id (its content is validated by [`crate::message`]).
    pub message: MessageId,
    /// Its kind.
    pub kind: ReplyKind,
    /// D5, D6: the dialog it is written in, or `None` for the general chat.
    pub dialog: Option<DialogId>,
    /// D5: a snapshot of the contact's dialogs.
    pub dialogs: ContactDialogs,
    /// The inbox's settings.
    pub policy: ReplyPolicy,
}

/// Where a conversation is transferred (R8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TransferTarget {
    /// To a queue: it waits there and is routed.
    Queue {
        /// The queue.
        queue: QueueId,
    },
    /// To an agent, who gets an offer; if it times out the conversation waits in `queue`.
    Agent {
        /// The agent.
        agent: AgentId,
        /// Whether they are available now (only available agents can be targets).
        available: bool,
        /// The queue to wait in if the offer fails (the target's queue, or the current one).
        queue: Option<QueueId>,
        /// When the offer times out (now + the queue's offer timeout).
        deadline: Timestamp,
    },
}

/// A command to a conversation. Commands are not stored (their events are).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConversationCommand {
    /// C3, C8: the contact wrote. Never refused; reopens a closed conversation.
    ReceiveInbound {
        /// The stored inbound message.
        message: MessageId,
        /// The queue a reopened conversation is routed to.
        queue: Option<QueueId>,
        /// D5: the contact's active dialog, which the message goes into.
        dialog: Option<DialogId>,
    },
    /// C4, D5, M10: an agent writes a reply, a template or a note.
    SendReply {
        /// Who writes.
        by: Principal,
        /// What.
        reply: Reply,
    },
    /// C5, R10: resolve, optionally with a last message (send and close), atomically.
    Resolve {
        /// Who resolves.
        by: Principal,
        /// The wrap-up reason.
        wrap_up: Option<WrapUpReasonId>,
        /// The last message of send-and-close.
        closing: Option<Reply>,
        /// R10: whether the inbox makes the wrap-up mandatory.
        wrap_up_mandatory: bool,
    },
    /// C6: drop an unresponsive conversation; sends nothing to the contact.
    Drop {
        /// Who drops.
        by: Principal,
        /// Whether they are a member of its queue.
        member_of_queue: bool,
    },
    /// C4: an agent reopens a closed conversation, inside the reply window.
    Reopen {
        /// Who reopens.
        by: Principal,
        /// The inbox's reply window.
        reply_window: Option<Duration>,
        /// The queue it is routed to.
        queue: Option<QueueId>,
    },
    /// R7: manual assignment to an agent (offline or busy allowed; counts toward their load).
    AssignAgent {
        /// Who assigns.
        by: Principal,
        /// To whom.
        agent: AgentId,
    },
    /// R7: manual assignment to a queue; removes the individual assignee.
    AssignQueue {
        /// Who assigns.
        by: Principal,
        /// The queue.
        queue: QueueId,
    },
    /// R5: a member of the queue takes a waiting conversation.
    Claim {
        /// Who claims.
        by: Principal,
        /// Whether they are a member of its queue.
        member_of_queue: bool,
    },
    /// R3 direct mode: routing assigns the chosen agent.
    RouteAssign {
        /// The chosen agent.
        agent: AgentId,
    },
    /// R3 offer mode: routing offers it to the chosen agent until the deadline.
    RouteOffer {
        /// The chosen agent.
        agent: AgentId,
        /// When the offer times out.
        deadline: Timestamp,
    },
    /// R6: the offered agent accepts.
    AcceptOffer {
        /// The agent.
        agent: AgentId,
    },
    /// R6: the offered agent declines.
    DeclineOffer {
        /// The agent.
        agent: AgentId,
    },
    /// R6: the offer timer fired.
    ExpireOffer {
        /// The agent the offer was for.
        agent: AgentId,
    },
    /// R8: the assignee transfers to a queue or an available agent, with a wrap-up reason.
    Transfer {
        /// Who transfers.
        by: Principal,
        /// Where to.
        target: TransferTarget,
        /// Their wrap-up reason (required).
        wrap_up: Option<WrapUpReasonId>,
    },
    /// R9: the assignee invites an available agent.
    InviteToConference {
        /// Who invites.
        by: Principal,
        /// The invited agent.
        invitee: AgentId,
        /// Whether the invitee is available.
        available: bool,
        /// When the invitation times out.
        deadline: Timestamp,
    },
    /// R9: the invitee accepts and joins.
    AcceptConference {
        /// The invitee.
        agent: AgentId,
    },
    /// R9: the invitee declines, or the invitation timed out (`agent` is then the invitee).
    DeclineConference {
        /// The invitee.
        agent: AgentId,
    },
    /// R9, R10: one of the two agents leaves the conference with a wrap-up reason.
    LeaveConference {
        /// Who leaves.
        agent: AgentId,
        /// Their wrap-up reason (required).
        wrap_up: Option<WrapUpReasonId>,
    },
    /// C11: hand the conversation to a named bot flow.
    HandToBot {
        /// Who hands it over.
        by: Principal,
        /// The flow.
        flow: String,
    },
    /// C11: the flow hands it back; it is routed.
    HandBack {
        /// The queue it is routed to.
        queue: Option<QueueId>,
    },
    /// C7: its inbox or queue was deleted.
    Interrupt {
        /// What was deleted.
        cause: InterruptCause,
    },
    /// R11: the assignee stayed offline past the grace period; route it again.
    Requeue {
        /// The offline agent.
        agent: AgentId,
        /// The queue it is routed to.
        queue: Option<QueueId>,
    },
}
