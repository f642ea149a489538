//! Where agents may write to a contact and where the contact's messages go, given their
//! dialogs (D5, D6). The conversation machine asks [`check_agent_write`] before an agent's
//! message is accepted and [`inbound_target`] when a contact's message arrives. Both read a
//! [`ContactDialogs`] snapshot of all the contact's dialogs, so the rules hold across all their
//! conversations, as D3 does.

use super::snapshot::ContactDialogs;
use super::status::DialogStatusKind;
use crate::error::{DomainError, DomainResult};
use crate::ids::DialogId;

/// D5, D6: may an agent write to the contact in the general chat (`target == None`) or inside
/// the dialog `target`?
///
/// - With an active dialog, only inside it: the general chat is refused (D5).
/// - Inside the active dialog: allowed. Inside a paused or completed dialog: refused (D6).
/// - With no active dialog, the general chat is open (D6).
///
/// The caller checks that `target` is a dialog of the message's conversation.
///
/// # Errors
/// - `write_inside_active_dialog` (naming the active dialog) for the general chat while a dialog
///   is active;
/// - `dialog_not_active` inside a paused or completed dialog;
/// - `not_found` inside a dialog the snapshot does not know.
pub fn check_agent_write(target: Option<DialogId>, dialogs: &ContactDialogs) -> DomainResult<()> {
    match target {
        None => match dialogs.active() {
            Some(active) => Err(DomainError::WriteInsideActiveDialog { active }),
            None => Ok(()),
        },
        Some(dialog) => match dialogs.status_of(dialog) {
            Some(DialogStatusKind::Active) => Ok(()),
            Some(DialogStatusKind::Paused | DialogStatusKind::Completed) => {
                Err(DomainError::DialogNotActive)
            }
            None => Err(DomainError::NotFound),
        },
    }
}

/// D5: the dialog an inbound message of the contact goes into: their active dialog, if any;
/// `None` means the general chat (D6). Nothing the contact writes is refused (C3).
#[must_use]
pub fn inbound_target(dialogs: &ContactDialogs) -> Option<DialogId> {
    dialogs.active()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ContactId;

    const ACTIVE: DialogId = DialogId::from_u128(1);
    const PAUSED: DialogId = DialogId::from_u128(2);
    const COMPLETED: DialogId = DialogId::from_u128(3);
    const UNKNOWN: DialogId = DialogId::from_u128(9);

    fn with_active() -> ContactDialogs {
        ContactDialogs::new(
            ContactId::from_u128(1),
            [
                (ACTIVE, DialogStatusKind::Active),
                (PAUSED, DialogStatusKind::Paused),
                (COMPLETED, DialogStatusKind::Completed),
            ],
        )
    }

    fn without_active() -> ContactDialogs {
        ContactDialogs::new(
            ContactId::from_u128(1),
            [
                (PAUSED, DialogStatusKind::Paused),
                (COMPLETED, DialogStatusKind::Completed),
            ],
        )
    }

    #[test]
    fn d5_general_chat_is_refused_while_a_dialog_is_active() {
        assert_eq!(
            check_agent_write(None, &with_active()),
            Err(DomainError::WriteInsideActiveDialog { active: ACTIVE })
        );
    }

    #[test]
    fn d5_writing_inside_the_active_dialog_is_allowed() {
        assert_eq!(check_agent_write(Some(ACTIVE), &with_active()), Ok(()));
    }

    #[test]
    fn d6_writing_inside_a_paused_dialog_is_refused() {
        for dialogs in [with_active(), without_active()] {
            assert_eq!(
                check_agent_write(Some(PAUSED), &dialogs)
                    .unwrap_err()
                    .code(),
                "dialog_not_active"
            );
        }
    }

    #[test]
    fn d6_writing_inside_a_completed_dialog_is_refused() {
        for dialogs in [with_active(), without_active()] {
            assert_eq!(
                check_agent_write(Some(COMPLETED), &dialogs)
                    .unwrap_err()
                    .code(),
                "dialog_not_active"
            );
        }
    }

    #[test]
    fn d6_general_chat_is_open_without_an_active_dialog() {
        assert_eq!(check_agent_write(None, &without_active()), Ok(()));
        assert_eq!(
            check_agent_write(None, &ContactDialogs::none(ContactId::from_u128(1))),
            Ok(())
        );
    }

    #[test]
    fn d5_writing_inside_an_unknown_dialog_is_not_found() {
        assert_eq!(
            check_agent_write(Some(UNKNOWN), &with_active()),
            Err(DomainError::NotFound)
        );
    }

    #[test]
    fn d5_inbound_messages_go_into_the_active_dialog() {
        assert_eq!(inbound_target(&with_active()), Some(ACTIVE));
    }

    #[test]
    fn d6_inbound_messages_go_to_the_general_chat_without_an_active_dialog() {
        assert_eq!(inbound_target(&without_active()), None);
    }
}
