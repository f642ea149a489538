//! The [`Dialog`] aggregate (D1-D4, D9, D12, D13): its data, how it is built from its
//! [`DialogCreated`] event, and [`Dialog::apply`], the total fold of one event into the state.
//! [`Dialog::replay`] rebuilds a dialog from its stored events. The decisions live in
//! `decide.rs`.
//!
//! `apply` trusts the events of `decide` and never fails. It keeps the rule "completed is
//! final" on its own too: on a completed dialog it only takes the satisfaction form once and the
//! contact's first answer once, and leaves the dialog unchanged for every other event (which
//! `decide` never emits there), so a damaged log cannot reopen a completed dialog.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::event::{DialogCreated, DialogEvent};
use super::rating::{Satisfaction, Stars};
use super::status::{DialogStatus, SatisfactionAnswer, SentSatisfactionForm};
use super::title::DialogTitle;
use crate::actor::Actor;
use crate::entities::Timestamp;
use crate::ids::{
    AccountId, AgentId, ComponentId, ContactId, ConversationId, DialogId, ReasonId, RequestTypeId,
};

/// A titled, typed request handled inside a conversation (D1).
///
/// Its fields are public plain data so that stores can read and write them; changes go through
/// [`Dialog::decide`] and [`Dialog::apply`] only.
///
/// D10: `request_type`, `reasons` and `components` are ids of the account's settings. They stay
/// on the dialog when the setting is removed (archived) from the account's list; nothing here
/// refuses an archived id the dialog already holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dialog {
    /// Its id.
    pub id: DialogId,
    /// The account.
    pub account: AccountId,
    /// The conversation it is handled in.
    pub conversation: ConversationId,
    /// The conversation's contact.
    pub contact: ContactId,
    /// The title (D1).
    pub title: DialogTitle,
    /// The request type (D1).
    pub request_type: RequestTypeId,
    /// The participating agents (D1: the creator by default). Never empty.
    pub participants: BTreeSet<AgentId>,
    /// The reasons (D1: optional, many).
    pub reasons: BTreeSet<ReasonId>,
    /// The components (D1: optional, many).
    pub components: BTreeSet<ComponentId>,
    /// The status, with its data (D4, D12, D13).
    pub status: DialogStatus,
    /// When it was created.
    pub created_at: Timestamp,
    /// Who created it.
    pub created_by: Actor,
}

impl Dialog {
    /// The dialog a [`DialogCreated`] event brings into being: active (D2).
    #[must_use]
    pub fn from_created(created: &DialogCreated) -> Self {
        Self {
            id: created.dialog,
            account: created.account,
            conversation: created.conversation,
            contact: created.contact,
            title: created.title.clone(),
            request_type: created.request_type,
            participants: created.participants.clone(),
            reasons: created.reasons.clone(),
            components: created.components.clone(),
            status: DialogStatus::Active,
            created_at: created.at,
            created_by: created.by,
        }
    }

    /// Rebuilds a dialog from its events, oldest first. `None` when there is no event or the
    /// first one is not [`DialogEvent::Created`].
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a DialogEvent>) -> Option<Self> {
        let mut events = events.into_iter();
        let DialogEvent::Created(created) = events.next()? else {
            return None;
        };
        let mut dialog = Self::from_created(created);
        for event in events {
            dialog.apply(event);
        }
        Some(dialog)
    }

    /// Folds one event into the dialog. Total: it never fails and never panics. A second
    /// `Created` is ignored; on a completed dialog only the first `SatisfactionFormSent` and
    /// the first `SatisfactionRecorded` change anything; `SatisfactionClickIgnored` never does.
    pub fn apply(&mut self, event: &DialogEvent) {
        if let DialogStatus::Completed {
            satisfaction_form, ..
        } = &mut self.status
        {
            Self::apply_after_completion(satisfaction_form, event);
            return;
        }
        match event {
            DialogEvent::Paused { at, .. } => self.status = DialogStatus::Paused { since: *at },
            DialogEvent::Resumed { .. } => self.status = DialogStatus::Active,
            DialogEvent::Completed {
                at, contact_rating, ..
            } => {
                self.status = DialogStatus::Completed {
                    at: *at,
                    contact_rating: *contact_rating,
                    satisfaction_form: None,
                };
            }
            DialogEvent::Renamed { title, .. } => self.title = title.clone(),
            DialogEvent::RequestTypeChanged { request_type, .. } => {
                self.request_type = *request_type;
            }
            DialogEvent::ParticipantAdded { agent, .. } => {
                self.participants.insert(*agent);
            }
            DialogEvent::ParticipantRemoved { agent, .. } => {
                self.participants.remove(agent);
            }
            DialogEvent::ReasonsChanged { reasons, .. } => self.reasons = reasons.clone(),
            DialogEvent::ComponentsChanged { components, .. } => {
                self.components = components.clone();
            }
            DialogEvent::Created(_)
            | DialogEvent::SatisfactionFormSent { .. }
            | DialogEvent::SatisfactionRecorded { .. }
            | DialogEvent::SatisfactionClickIgnored { .. } => {}
        }
    }

    /// The part of `apply` for a completed dialog: the form once, then its first answer once.
    fn apply_after_completion(
        satisfaction_form: &mut Option<SentSatisfactionForm>,
        event: &DialogEvent,
    ) {
        match (event, satisfaction_form.as_mut()) {
            (DialogEvent::SatisfactionFormSent { at, form, .. }, None) => {
                *satisfaction_form = Some(SentSatisfactionForm {
                    sent_at: *at,
                    form: form.clone(),
                    answer: None,
                });
            }
            (DialogEvent::SatisfactionRecorded { at, value, .. }, Some(sent))
                if sent.answer.is_none() =>
            {
                sent.answer = Some(SatisfactionAnswer {
                    value: *value,
                    at: *at,
                });
            }
            _ => {}
        }
    }

    /// Whether it is active (D2, D3, D5).
    #[must_use]
    pub const fn is_active(&self) -> bool {
        matches!(self.status, DialogStatus::Active)
    }

    /// Whether it is completed (D4: final).
    #[must_use]
    pub const fn is_completed(&self) -> bool {
        matches!(self.status, DialogStatus::Completed { .. })
    }

    /// D12, D14: the agent's rating of the contact, if the dialog was completed with one.
    #[must_use]
    pub const fn contact_rating(&self) -> Option<Stars> {
        match &self.status {
            DialogStatus::Completed { contact_rating, .. } => *contact_rating,
            DialogStatus::Active | DialogStatus::Paused { .. } => None,
        }
    }

    /// D13: the satisfaction form sent with the completion, and the contact's answer.
    #[must_use]
    pub const fn satisfaction_form(&self) -> Option<&SentSatisfactionForm> {
        match &self.status {
            DialogStatus::Completed {
                satisfaction_form, ..
            } => satisfaction_form.as_ref(),
            DialogStatus::Active | DialogStatus::Paused { .. } => None,
        }
    }

    /// D13, D14: the contact's satisfaction (their first click), if they answered the form.
    #[must_use]
    pub fn satisfaction(&self) -> Option<Satisfaction> {
        self.satisfaction_form()
            .and_then(|sent| sent.answer)
            .map(|answer| answer.value)
    }
}
