//! The dialog's title (D1): required, trimmed, never blank, at most [`DialogTitle::MAX_CHARS`]
//! characters. Parsed once from what the agent typed and trusted after, also when read back
//! through serde (an invalid stored title fails to deserialize instead of slipping in).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, DomainResult};

/// A validated dialog title (D1). It is also the title of the tasks of D11.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DialogTitle(String);

impl DialogTitle {
    /// The longest title, in characters. Not a rule of the spec: a bound chosen so that a
    /// title fits list rows, task titles and report cells.
    pub const MAX_CHARS: usize = 200;

    /// Trims the text and checks it.
    ///
    /// # Errors
    /// `missing_field` when the text is blank after trimming; `invalid_value` when it is
    /// longer than [`Self::MAX_CHARS`] characters.
    pub fn parse(text: &str) -> DomainResult<Self> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(DomainError::MissingField { field: "title" });
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(DomainError::InvalidValue {
                field: "title",
                reason: "a dialog title has at most 200 characters",
            });
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The title's text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DialogTitle {
    type Error = DomainError;

    fn try_from(value: String) -> DomainResult<Self> {
        Self::parse(&value)
    }
}

impl From<DialogTitle> for String {
    fn from(value: DialogTitle) -> Self {
        value.0
    }
}

impl fmt::Display for DialogTitle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d1_title_is_trimmed() {
        assert_eq!(
            DialogTitle::parse("  Widget is broken \n")
                .unwrap()
                .as_str(),
            "Widget is broken"
        );
    }

    #[test]
    fn d1_blank_title_is_missing() {
        for text in ["", "   ", "\n\t"] {
            assert_eq!(
                DialogTitle::parse(text).unwrap_err().code(),
                "missing_field"
            );
        }
    }

    #[test]
    fn d1_title_length_is_bounded_in_characters() {
        let longest = "é".repeat(DialogTitle::MAX_CHARS);
        assert!(DialogTitle::parse(&longest).is_ok());
        let too_long = "é".repeat(DialogTitle::MAX_CHARS + 1);
        assert_eq!(
            DialogTitle::parse(&too_long).unwrap_err().code(),
            "invalid_value"
        );
    }

    #[test]
    fn d1_title_serde_validates() {
        let title = DialogTitle::parse("Refund").unwrap();
        let json = serde_json::to_string(&title).unwrap();
        assert_eq!(json, "\"Refund\"");
        assert_eq!(serde_json::from_str::<DialogTitle>(&json).unwrap(), title);
        assert!(serde_json::from_str::<DialogTitle>("\"  \"").is_err());
    }
}
