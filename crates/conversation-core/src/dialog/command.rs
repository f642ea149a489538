//! What can be asked of a dialog: [`CreateDialog`] (there is no dialog yet, so it has its own
//! type and goes through [`Dialog::decide_create`](super::Dialog::decide_create)) and
//! [`DialogCommand`] for an existing one (through [`Dialog::decide`](super::Dialog::decide)).
//! Commands carry raw input (titles as typed) and who asks; `decide` validates them.
//! Commands that need the contact's other dialogs (D3) carry a [`ContactDialogs`] snapshot.

use std::collections::BTreeSet;

use super::rating::{Satisfaction, Stars};
use super::snapshot::ContactDialogs;
use crate::entities::SatisfactionForm;
use crate::ids::{
    AccountId, AgentId, ComponentId, ContactId, ConversationId, DialogId, ReasonId, RequestTypeId,
};

/// D1: create a dialog inside a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateDialog {
    /// The new dialog's id, made by the caller's id generator.
    pub dialog: DialogId,
    /// The account.
    pub account: AccountId,
    /// The conversation it is handled in.
    pub conversation: ConversationId,
    /// The conversation's contact.
    pub contact: ContactId,
    /// The agent who creates it; always added to the participants.
    pub by: AgentId,
    /// The title as typed; trimmed and checked by [`DialogTitle`](super::DialogTitle).
    pub title: String,
    /// The request type (required). The caller checks it is a live entry of the account's
    /// list ([`check_setting_choice`](super::check_setting_choice)).
    pub request_type: RequestTypeId,
    /// Other participating agents (the creator is added anyway).
    pub participants: BTreeSet<AgentId>,
    /// Reasons (optional, may be empty).
    pub reasons: BTreeSet<ReasonId>,
    /// Components (optional, may be empty).
    pub components: BTreeSet<ComponentId>,
}

/// A command on an existing dialog. Agent commands are refused with `dialog_completed` once
/// the dialog is completed (D4); the contact's click ([`DialogCommand::RecordSatisfaction`])
/// is the only command a completed dialog takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DialogCommand {
    /// D4: active -> paused.
    Pause {
        /// Who pauses it.
        by: AgentId,
    },
    /// D4: paused -> active, unless another dialog of the contact is active (D3).
    Resume {
        /// Who resumes it.
        by: AgentId,
        /// The contact's dialogs, as the store sees them now.
        dialogs: ContactDialogs,
    },
    /// D4: active or paused -> completed. D12: the agent may rate the contact and send the
    /// satisfaction form with the completion, as the manual's completion form does; neither
    /// can be done later, because a completed dialog takes no agent command.
    Complete {
        /// Who completes it.
        by: AgentId,
        /// D12: the agent's rating of the contact, if they give one.
        contact_rating: Option<Stars>,
        /// D12, D13: the satisfaction form to send (the inbox's configured one), if the agent
        /// ticks "send the satisfaction form".
        send_satisfaction_form: Option<SatisfactionForm>,
    },
    /// D9: change the title.
    Rename {
        /// Who renames it.
        by: AgentId,
        /// The new title as typed.
        title: String,
    },
    /// D9: change the request type.
    ChangeRequestType {
        /// Who changes it.
        by: AgentId,
        /// The new request type (the caller checks it is live when it is new, D10).
        request_type: RequestTypeId,
    },
    /// D9: add a participating agent (D11: the caller creates their task on the event).
    AddParticipant {
        /// Who adds them.
        by: AgentId,
        /// The agent to add.
        agent: AgentId,
    },
    /// D9: remove a participating agent. The last participant stays.
    RemoveParticipant {
        /// Who removes them.
        by: AgentId,
        /// The agent to remove.
        agent: AgentId,
    },
    /// D9: replace the reasons (D10: the caller checks the new ones are live).
    SetReasons {
        /// Who sets them.
        by: AgentId,
        /// The whole new set; empty clears them.
        reasons: BTreeSet<ReasonId>,
    },
    /// D9: replace the components (D10: the caller checks the new ones are live).
    SetComponents {
        /// Who sets them.
        by: AgentId,
        /// The whole new set; empty clears them.
        components: BTreeSet<ComponentId>,
    },
    /// D13: the contact clicked a button of the satisfaction form. Only the first click counts;
    /// later ones are answered with the thank-you but change nothing.
    RecordSatisfaction {
        /// The contact who clicked (must be the dialog's contact).
        contact: ContactId,
        /// The button.
        value: Satisfaction,
    },
}

impl DialogCommand {
    /// The command in words, as error messages and the transition table name it.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Pause { .. } => "pause",
            Self::Resume { .. } => "resume",
            Self::Complete { .. } => "complete",
            Self::Rename { .. } => "rename",
            Self::ChangeRequestType { .. } => "change the request type",
            Self::AddParticipant { .. } => "add a participant",
            Self::RemoveParticipant { .. } => "remove a participant",
            Self::SetReasons { .. } => "set the reasons",
            Self::SetComponents { .. } => "set the components",
            Self::RecordSatisfaction { .. } => "record the contact's satisfaction",
        }
    }
}
