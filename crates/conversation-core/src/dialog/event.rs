//! What happened to a dialog: [`DialogEvent`], past tense, serde (internally tagged by
//! `type`), each carrying `at` and the [`Actor`] who caused it (C12, D9: every change is
//! recorded). The store records each event with its dialog's id; only
//! [`DialogCreated`] names the dialog itself, because it brings it into being.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::rating::{Satisfaction, Stars};
use super::title::DialogTitle;
use crate::actor::Actor;
use crate::entities::{SatisfactionForm, Timestamp};
use crate::ids::{
    AccountId, AgentId, ComponentId, ContactId, ConversationId, DialogId, ReasonId, RequestTypeId,
};

/// D1, D2: a dialog was created; it is active.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialogCreated {
    /// When.
    pub at: Timestamp,
    /// Who created it.
    pub by: Actor,
    /// The dialog.
    pub dialog: DialogId,
    /// The account.
    pub account: AccountId,
    /// The conversation it is handled in.
    pub conversation: ConversationId,
    /// The contact.
    pub contact: ContactId,
    /// The title.
    pub title: DialogTitle,
    /// The request type.
    pub request_type: RequestTypeId,
    /// The participating agents, the creator included.
    pub participants: BTreeSet<AgentId>,
    /// The reasons.
    pub reasons: BTreeSet<ReasonId>,
    /// The components.
    pub components: BTreeSet<ComponentId>,
}

/// A change of a dialog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DialogEvent {
    /// D1, D2: the dialog was created.
    Created(DialogCreated),
    /// D4: active -> paused.
    Paused {
        /// When.
        at: Timestamp,
        /// Who.
        by: Actor,
    },
    /// D4: paused -> active.
    Resumed {
        /// When.
        at: Timestamp,
        /// Who.
        by: Actor,
    },
    /// D4: active or paused -> completed, with the agent's rating of the contact (D12).
    Completed {
        /// When.
        at: Timestamp,
        /// Who.
        by: Actor,
        /// D12: the agent's rating of the contact, if given.
        contact_rating: Option<Stars>,
    },
    /// D9: the title changed.
    Renamed {
        /// When.
        at: Timestamp,
        /// Who.
        by: Actor,
        /// The new title.
        title: DialogTitle,
    },
    /// D9: the request type changed.
    RequestTypeChanged {
        /// When.
        at: Timestamp,
        /// Who.
        by: Actor,
        /// The new request type.
        request_type: RequestTypeId,
    },
    /// D9, D11: an agent joined the dialog.
    ParticipantAdded {
        /// When.
        at: Timestamp,
        /// Who added them.
        by: Actor,
        /// The agent added.
        agent: AgentId,
    },
    /// D9: an agent left the dialog.
    ParticipantRemoved {
        /// When.
        at: Timestamp,
        /// Who removed them.
        by: Actor,
        /// The agent removed.
        agent: AgentId,
    },
    /// D9: the reasons were replaced.
    ReasonsChanged {
        /// When.
        at: Timestamp,
        /// Who.
        by: Actor,
        /// The whole new set.
        reasons: BTreeSet<ReasonId>,
    },
    /// D9: the components were replaced.
    ComponentsChanged {
        /// When.
        at: Timestamp,
        /// Who.
        by: Actor,
        /// The whole new set.
        components: BTreeSet<ComponentId>,
    },
    /// D12, D13: the satisfaction form was sent with the completion. The caller sends it to
    /// the contact as one `csat_request` message: `form.text` and three buttons labelled
    /// `form.labels` (worth 1, 2, 3).
    SatisfactionFormSent {
        /// When.
        at: Timestamp,
        /// Who.
        by: Actor,
        /// The form as sent.
        form: SatisfactionForm,
    },
    /// D13: the contact's first click was recorded on the dialog. The caller answers the
    /// contact with `thank_you`.
    SatisfactionRecorded {
        /// When.
        at: Timestamp,
        /// The contact.
        by: Actor,
        /// The button they clicked.
        value: Satisfaction,
        /// The thank-you message to answer with (from the form that was sent).
        thank_you: String,
    },
    /// D13: a later click of the contact, after the first was recorded: answered with
    /// `thank_you` like the first, but it changes nothing ([`Dialog::apply`](super::Dialog::apply)
    /// leaves the dialog as it is). Kept so that the answer goes out and the click is on record.
    SatisfactionClickIgnored {
        /// When.
        at: Timestamp,
        /// The contact.
        by: Actor,
        /// The button they clicked.
        value: Satisfaction,
        /// The thank-you message to answer with.
        thank_you: String,
    },
}

impl DialogEvent {
    /// When it happened.
    #[must_use]
    pub const fn at(&self) -> Timestamp {
        match self {
            Self::Created(created) => created.at,
            Self::Paused { at, .. }
            | Self::Resumed { at, .. }
            | Self::Completed { at, .. }
            | Self::Renamed { at, .. }
            | Self::RequestTypeChanged { at, .. }
            | Self::ParticipantAdded { at, .. }
            | Self::ParticipantRemoved { at, .. }
            | Self::ReasonsChanged { at, .. }
            | Self::ComponentsChanged { at, .. }
            | Self::SatisfactionFormSent { at, .. }
            | Self::SatisfactionRecorded { at, .. }
            | Self::SatisfactionClickIgnored { at, .. } => *at,
        }
    }

    /// Who caused it.
    #[must_use]
    pub const fn by(&self) -> Actor {
        match self {
            Self::Created(created) => created.by,
            Self::Paused { by, .. }
            | Self::Resumed { by, .. }
            | Self::Completed { by, .. }
            | Self::Renamed { by, .. }
            | Self::RequestTypeChanged { by, .. }
            | Self::ParticipantAdded { by, .. }
            | Self::ParticipantRemoved { by, .. }
            | Self::ReasonsChanged { by, .. }
            | Self::ComponentsChanged { by, .. }
            | Self::SatisfactionFormSent { by, .. }
            | Self::SatisfactionRecorded { by, .. }
            | Self::SatisfactionClickIgnored { by, .. } => *by,
        }
    }
}
