//! D10 for the caller: request types, reasons and components are account settings, and a
//! removed (archived) one stays on the dialogs that hold it. The dialog itself stores only ids
//! and refuses none; the use case loads the account's list and calls [`check_setting_choice`]
//! before `CreateDialog`, `ChangeRequestType`, `SetReasons` or `SetComponents`, so that a NEW
//! choice must be a live entry while ids the dialog already holds are kept even when archived.

use std::collections::BTreeSet;

use crate::entities::SettingEntry;
use crate::error::{DomainError, DomainResult};

/// D10: checks the ids in `chosen` that are not in `held` against the account's list
/// `catalog`. Ids already held pass whatever their state, so saving a dialog with an archived
/// reason it already had still works. For a request type, pass one-element sets (and an empty
/// `held` on creation).
///
/// # Errors
/// - `not_found` when a new id is not in the account's list;
/// - `invalid_value` (naming `field`) when a new id is archived.
pub fn check_setting_choice<I: Ord>(
    field: &'static str,
    held: &BTreeSet<I>,
    chosen: &BTreeSet<I>,
    catalog: &[SettingEntry<I>],
) -> DomainResult<()> {
    for id in chosen.difference(held) {
        let entry = catalog
            .iter()
            .find(|entry| entry.id == *id)
            .ok_or(DomainError::NotFound)?;
        if !entry.is_live() {
            return Err(DomainError::InvalidValue {
                field,
                reason: "it was removed from the account's list; pick a current one",
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::entities::Reason;
    use crate::ids::ReasonId;

    fn catalog() -> Vec<Reason> {
        let mut archived = SettingEntry::new(ReasonId::from_u128(2), "Old").unwrap();
        archived.archived_at = DateTime::from_timestamp(1_700_000_000, 0);
        vec![
            SettingEntry::new(ReasonId::from_u128(1), "Live").unwrap(),
            archived,
        ]
    }

    fn set(ids: &[u128]) -> BTreeSet<ReasonId> {
        ids.iter().map(|n| ReasonId::from_u128(*n)).collect()
    }

    #[test]
    fn d10_an_archived_setting_the_dialog_holds_is_kept() {
        assert_eq!(
            check_setting_choice("reasons", &set(&[2]), &set(&[1, 2]), &catalog()),
            Ok(())
        );
    }

    #[test]
    fn d10_a_new_archived_setting_is_refused() {
        assert_eq!(
            check_setting_choice("reasons", &set(&[]), &set(&[2]), &catalog())
                .unwrap_err()
                .code(),
            "invalid_value"
        );
    }

    #[test]
    fn d10_a_new_unknown_setting_is_not_found() {
        assert_eq!(
            check_setting_choice("reasons", &set(&[1]), &set(&[1, 7]), &catalog()),
            Err(DomainError::NotFound)
        );
    }

    #[test]
    fn d10_a_new_live_setting_is_accepted() {
        assert_eq!(
            check_setting_choice("reasons", &set(&[]), &set(&[1]), &catalog()),
            Ok(())
        );
    }
}
