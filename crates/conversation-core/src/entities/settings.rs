use serde::{Deserialize, Serialize};

use super::Timestamp;
use crate::error::{DomainError, DomainResult};
use crate::ids::{ComponentId, ReasonId, RequestTypeId, WrapUpReasonId};

/// One entry of an account's list (request types, reasons, components, wrap-up reasons).
/// Removing an entry archives it (D10): dialogs and conversations that used it keep it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingEntry<I> {
    /// Its id.
    pub id: I,
    /// Its name, as shown in lists and reports.
    pub name: String,
    /// When it was removed from the list; still shown where it was used.
    pub archived_at: Option<Timestamp>,
}

impl<I> SettingEntry<I> {
    /// A new, live entry.
    ///
    /// # Errors
    /// `missing_field` when the name is blank.
    pub fn new(id: I, name: &str) -> DomainResult<Self> {
        let name = name.trim();
        if name.is_empty() {
            return Err(DomainError::MissingField { field: "name" });
        }
        Ok(Self {
            id,
            name: name.to_owned(),
            archived_at: None,
        })
    }

    /// Whether it can be chosen for new work.
    #[must_use]
    pub const fn is_live(&self) -> bool {
        self.archived_at.is_none()
    }
}

/// A dialog request type (D1).
pub type RequestType = SettingEntry<RequestTypeId>;
/// A dialog reason (D1).
pub type Reason = SettingEntry<ReasonId>;
/// A dialog component (D1).
pub type Component = SettingEntry<ComponentId>;
/// A wrap-up reason (R10).
pub type WrapUpReason = SettingEntry<WrapUpReasonId>;

/// D1: the request types every new account starts with, `Support` and `Refund`, with ids made
/// by the caller.
#[must_use]
pub fn default_request_types(support: RequestTypeId, refund: RequestTypeId) -> [RequestType; 2] {
    [
        SettingEntry {
            id: support,
            name: "Support".into(),
            archived_at: None,
        },
        SettingEntry {
            id: refund,
            name: "Refund".into(),
            archived_at: None,
        },
    ]
}

/// D13: the satisfaction form: one message with a text, exactly three buttons valued
/// Bad = 1, Normal = 2, Excellent = 3, and a thank-you answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SatisfactionForm {
    /// The question.
    pub text: String,
    /// The labels of the buttons worth 1, 2 and 3, in that order.
    pub labels: [String; 3],
    /// The answer to the contact's click.
    pub thank_you: String,
}

impl Default for SatisfactionForm {
    fn default() -> Self {
        Self {
            text: "How would you rate our service?".into(),
            labels: ["Bad".into(), "Normal".into(), "Excellent".into()],
            thank_you: "Thank you for your feedback!".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d1_default_request_types_are_support_and_refund() {
        let [a, b] =
            default_request_types(RequestTypeId::from_u128(1), RequestTypeId::from_u128(2));
        assert_eq!((a.name.as_str(), b.name.as_str()), ("Support", "Refund"));
        assert!(a.is_live() && b.is_live());
    }

    #[test]
    fn d10_setting_entry_needs_a_name() {
        assert_eq!(
            SettingEntry::new(ReasonId::from_u128(1), "  ")
                .unwrap_err()
                .code(),
            "missing_field"
        );
        assert_eq!(
            SettingEntry::new(ReasonId::from_u128(1), " Late ")
                .unwrap()
                .name,
            "Late"
        );
    }

    #[test]
    fn d13_default_form_has_three_labels_in_value_order() {
        let form = SatisfactionForm::default();
        assert_eq!(form.labels, ["Bad", "Normal", "Excellent"]);
    }
}
