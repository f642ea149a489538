//! D14, D15: one dialog's events, in log order, into its report row: its dimensions (request
//! type, reasons, components, participants, status) as they are now, its durations and both
//! ratings. Formulas (`docs/reports.md`):
//!
//! - `duration_secs`: from creation to completion (completed dialogs only).
//! - `active_secs`: the time spent `active`, pauses excluded (completed dialogs only; the
//!   running interval of an unfinished dialog is not counted yet).
//! - `contact_rating`: the agent's stars at completion (D12); `satisfaction`: the contact's
//!   first click on the form (D13).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::summary::seconds_between;
use crate::Timestamp;
use crate::actor::Actor;
use crate::dialog::{DialogEvent, DialogStatusKind};
use crate::ids::{AgentId, ComponentId, ConversationId, DialogId, ReasonId, RequestTypeId};

/// A dialog as the dialog report shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialogRow {
    /// The dialog.
    pub dialog: DialogId,
    /// Its conversation.
    pub conversation: ConversationId,
    /// When it was created: the report puts it on this time's UTC day.
    pub created_at: Timestamp,
    /// Its status now.
    pub status: DialogStatusKind,
    /// Its request type now.
    pub request_type: RequestTypeId,
    /// Its reasons now.
    pub reasons: BTreeSet<ReasonId>,
    /// Its components now.
    pub components: BTreeSet<ComponentId>,
    /// Its participating agents now.
    pub participants: BTreeSet<AgentId>,
    /// When it was completed.
    pub completed_at: Option<Timestamp>,
    /// Who completed it.
    pub completed_by: Option<AgentId>,
    /// Seconds spent active up to the last status change.
    pub active_secs: u64,
    /// Since when it is active (`None` while paused or completed).
    pub active_since: Option<Timestamp>,
    /// D12: the agent's rating of the contact.
    pub contact_rating: Option<u8>,
    /// D13: the contact's rating.
    pub satisfaction: Option<u8>,
}

impl DialogRow {
    /// Seconds from creation to completion, for a completed dialog.
    #[must_use]
    pub fn duration_secs(&self) -> Option<u64> {
        self.completed_at
            .map(|done| seconds_between(self.created_at, done))
    }

    /// Seconds spent active, for a completed dialog.
    #[must_use]
    pub fn completed_active_secs(&self) -> Option<u64> {
        self.completed_at.map(|_| self.active_secs)
    }
}

/// The report state of one dialog: its row once its creation was seen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialogFold {
    /// The row; `None` before `Created`.
    pub row: Option<DialogRow>,
}

impl DialogFold {
    /// Folds one event of the dialog.
    pub fn fold(&mut self, event: &DialogEvent) {
        if let DialogEvent::Created(created) = event {
            self.row = Some(DialogRow {
                dialog: created.dialog,
                conversation: created.conversation,
                created_at: created.at,
                status: DialogStatusKind::Active,
                request_type: created.request_type,
                reasons: created.reasons.clone(),
                components: created.components.clone(),
                participants: created.participants.clone(),
                completed_at: None,
                completed_by: None,
                active_secs: 0,
                active_since: Some(created.at),
                contact_rating: None,
                satisfaction: None,
            });
            return;
        }
        let Some(row) = self.row.as_mut() else {
            return;
        };
        let stop = |row: &mut DialogRow, at: Timestamp| {
            if let Some(since) = row.active_since.take() {
                row.active_secs += seconds_between(since, at);
            }
        };
        match event {
            DialogEvent::Created(_) => {}
            DialogEvent::Paused { at, .. } => {
                stop(row, *at);
                row.status = DialogStatusKind::Paused;
            }
            DialogEvent::Resumed { at, .. } => {
                row.active_since.get_or_insert(*at);
                row.status = DialogStatusKind::Active;
            }
            DialogEvent::Completed {
                at,
                by,
                contact_rating,
            } => {
                stop(row, *at);
                row.status = DialogStatusKind::Completed;
                row.completed_at = Some(*at);
                if let Actor::Agent(agent) = by {
                    row.completed_by = Some(*agent);
                }
                row.contact_rating = contact_rating.map(|stars| stars.get());
            }
            DialogEvent::RequestTypeChanged { request_type, .. } => {
                row.request_type = *request_type;
            }
            DialogEvent::ParticipantAdded { agent, .. } => {
                row.participants.insert(*agent);
            }
            DialogEvent::ParticipantRemoved { agent, .. } => {
                row.participants.remove(agent);
            }
            DialogEvent::ReasonsChanged { reasons, .. } => row.reasons.clone_from(reasons),
            DialogEvent::ComponentsChanged { components, .. } => {
                row.components.clone_from(components);
            }
            DialogEvent::SatisfactionRecorded { value, .. } => {
                row.satisfaction.get_or_insert(value.value());
            }
            DialogEvent::Renamed { .. }
            | DialogEvent::SatisfactionFormSent { .. }
            | DialogEvent::SatisfactionClickIgnored { .. } => {}
        }
    }
}
