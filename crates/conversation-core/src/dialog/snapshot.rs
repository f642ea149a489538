//! [`ContactDialogs`]: the snapshot of one contact's dialogs (id and status kind, across all
//! their conversations) that the caller loads from the store and passes in, so that the pure
//! core can decide D3 (one active dialog per contact) and D5/D6 (where agents may write).
//! The core checks the snapshot for a clear error; the database's partial unique index on
//! active dialogs makes D3 true under concurrent requests (see `architecture.md`).

use std::collections::BTreeMap;

use super::aggregate::Dialog;
use super::status::DialogStatusKind;
use crate::error::{DomainError, DomainResult};
use crate::ids::{ContactId, DialogId};

/// One contact's dialogs, across all their conversations: id and status kind (D3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactDialogs {
    contact: ContactId,
    dialogs: BTreeMap<DialogId, DialogStatusKind>,
}

impl ContactDialogs {
    /// A contact with no dialog yet.
    #[must_use]
    pub const fn none(contact: ContactId) -> Self {
        Self {
            contact,
            dialogs: BTreeMap::new(),
        }
    }

    /// The snapshot a store builds from its rows. When an id repeats, the last entry wins.
    #[must_use]
    pub fn new(
        contact: ContactId,
        dialogs: impl IntoIterator<Item = (DialogId, DialogStatusKind)>,
    ) -> Self {
        Self {
            contact,
            dialogs: dialogs.into_iter().collect(),
        }
    }

    /// The snapshot of the given dialogs that belong to `contact` (others are skipped).
    #[must_use]
    pub fn from_dialogs<'a>(
        contact: ContactId,
        dialogs: impl IntoIterator<Item = &'a Dialog>,
    ) -> Self {
        Self::new(
            contact,
            dialogs
                .into_iter()
                .filter(|d| d.contact == contact)
                .map(|d| (d.id, d.status.kind())),
        )
    }

    /// The contact.
    #[must_use]
    pub const fn contact(&self) -> ContactId {
        self.contact
    }

    /// D3: the contact's active dialog, if any. A store keeps at most one (its unique index);
    /// should a snapshot hold more, the smallest id is returned.
    #[must_use]
    pub fn active(&self) -> Option<DialogId> {
        self.dialogs
            .iter()
            .find(|(_, kind)| **kind == DialogStatusKind::Active)
            .map(|(id, _)| *id)
    }

    /// The status kind of one of the contact's dialogs; `None` when the snapshot does not
    /// know it.
    #[must_use]
    pub fn status_of(&self, dialog: DialogId) -> Option<DialogStatusKind> {
        self.dialogs.get(&dialog).copied()
    }

    /// Every dialog of the snapshot, by id.
    pub fn iter(&self) -> impl Iterator<Item = (DialogId, DialogStatusKind)> + '_ {
        self.dialogs.iter().map(|(id, kind)| (*id, *kind))
    }

    /// Checks that this is the snapshot of `contact`'s dialogs.
    ///
    /// # Errors
    /// `invalid_value` when it belongs to another contact (a caller's mistake).
    pub(super) fn ensure_of(&self, contact: ContactId) -> DomainResult<()> {
        if self.contact == contact {
            Ok(())
        } else {
            Err(DomainError::InvalidValue {
                field: "contact_dialogs",
                reason: "the snapshot belongs to another contact",
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> DialogId {
        DialogId::from_u128(n)
    }

    #[test]
    fn d3_active_is_the_active_dialog() {
        let contact = ContactId::from_u128(1);
        assert_eq!(ContactDialogs::none(contact).active(), None);
        let dialogs = ContactDialogs::new(
            contact,
            [
                (id(1), DialogStatusKind::Completed),
                (id(2), DialogStatusKind::Active),
                (id(3), DialogStatusKind::Paused),
            ],
        );
        assert_eq!(dialogs.active(), Some(id(2)));
        assert_eq!(dialogs.status_of(id(3)), Some(DialogStatusKind::Paused));
        assert_eq!(dialogs.status_of(id(4)), None);
        assert_eq!(dialogs.iter().count(), 3);
    }

    #[test]
    fn d3_snapshot_of_another_contact_is_refused() {
        let dialogs = ContactDialogs::none(ContactId::from_u128(1));
        assert!(dialogs.ensure_of(ContactId::from_u128(1)).is_ok());
        assert_eq!(
            dialogs
                .ensure_of(ContactId::from_u128(2))
                .unwrap_err()
                .code(),
            "invalid_value"
        );
    }
}
