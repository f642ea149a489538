//! D8: automated messages to a contact with an active dialog. Flow messages and broadcasts are
//! held and delivered, in the order they were held, once the contact has no active dialog any
//! more (the dialog was paused or completed); messages of the AI assistant are discarded instead
//! and never delivered later. [`automated_fate`] decides what becomes of one message, from the
//! [`ContactDialogs`] snapshot the caller loads (as for D5); [`may_release`] says whether held
//! messages may go now. Holding durably and releasing once are the store's and the use case's.

use serde::{Deserialize, Serialize};

use super::snapshot::ContactDialogs;
use crate::ids::DialogId;

/// Where an automated message comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutomatedSource {
    /// A bot flow's message.
    Flow,
    /// A broadcast (a campaign sent to many contacts).
    Broadcast,
    /// The AI assistant.
    Ai,
}

impl AutomatedSource {
    /// Its name, as stored.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Flow => "flow",
            Self::Broadcast => "broadcast",
            Self::Ai => "ai",
        }
    }

    /// The source of a stored name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Flow, Self::Broadcast, Self::Ai]
            .into_iter()
            .find(|source| source.as_str() == name)
    }
}

/// D8: what becomes of one automated message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutomatedFate {
    /// No active dialog: it is delivered now.
    Deliver,
    /// A flow message or broadcast while `dialog` is active: it waits until no dialog of the
    /// contact is active.
    Hold {
        /// The active dialog it waits for.
        dialog: DialogId,
    },
    /// An AI message while `dialog` is active: it is dropped, never delivered later.
    Discard {
        /// The active dialog.
        dialog: DialogId,
    },
}

/// D8: the fate of an automated message from `source` to the contact whose dialogs are
/// `dialogs`.
#[must_use]
pub fn automated_fate(source: AutomatedSource, dialogs: &ContactDialogs) -> AutomatedFate {
    match (dialogs.active(), source) {
        (None, _) => AutomatedFate::Deliver,
        (Some(dialog), AutomatedSource::Ai) => AutomatedFate::Discard { dialog },
        (Some(dialog), AutomatedSource::Flow | AutomatedSource::Broadcast) => {
            AutomatedFate::Hold { dialog }
        }
    }
}

/// D8: whether the contact's held messages may be delivered now: none of their dialogs is
/// active (a dialog resumed before the release keeps them waiting).
#[must_use]
pub fn may_release(dialogs: &ContactDialogs) -> bool {
    dialogs.active().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialog::DialogStatusKind;
    use crate::ids::ContactId;

    const DIALOG: DialogId = DialogId::from_u128(7);

    fn with(status: DialogStatusKind) -> ContactDialogs {
        ContactDialogs::new(ContactId::from_u128(1), [(DIALOG, status)])
    }

    #[test]
    fn d8_flow_and_broadcast_messages_are_held_while_a_dialog_is_active() {
        let active = with(DialogStatusKind::Active);
        for source in [AutomatedSource::Flow, AutomatedSource::Broadcast] {
            assert_eq!(
                automated_fate(source, &active),
                AutomatedFate::Hold { dialog: DIALOG }
            );
        }
        assert!(!may_release(&active));
    }

    #[test]
    fn d8_ai_messages_are_discarded_while_a_dialog_is_active() {
        assert_eq!(
            automated_fate(AutomatedSource::Ai, &with(DialogStatusKind::Active)),
            AutomatedFate::Discard { dialog: DIALOG }
        );
    }

    #[test]
    fn d8_every_automated_message_is_delivered_without_an_active_dialog() {
        for status in [DialogStatusKind::Paused, DialogStatusKind::Completed] {
            let dialogs = with(status);
            assert!(may_release(&dialogs));
            for source in [
                AutomatedSource::Flow,
                AutomatedSource::Broadcast,
                AutomatedSource::Ai,
            ] {
                assert_eq!(automated_fate(source, &dialogs), AutomatedFate::Deliver);
            }
        }
        let none = ContactDialogs::none(ContactId::from_u128(1));
        assert_eq!(
            automated_fate(AutomatedSource::Flow, &none),
            AutomatedFate::Deliver
        );
    }

    #[test]
    fn d8_sources_round_trip_through_their_names() {
        for source in [
            AutomatedSource::Flow,
            AutomatedSource::Broadcast,
            AutomatedSource::Ai,
        ] {
            assert_eq!(AutomatedSource::parse(source.as_str()), Some(source));
        }
        assert_eq!(AutomatedSource::parse("agent"), None);
    }
}
