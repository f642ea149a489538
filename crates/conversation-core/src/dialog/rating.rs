//! The two ratings of a completed dialog (D12, D13, shown side by side by D14): the agent's
//! [`Stars`] for the contact, and the contact's [`Satisfaction`] click on the form. Both are
//! stored and serialized as their number (1 to 3), the value reports compute with.

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, DomainResult};

/// D12: the agent's rating of the contact, 1 to 3 stars.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Stars(u8);

impl Stars {
    /// The lowest rating.
    pub const MIN: Self = Self(1);
    /// The highest rating.
    pub const MAX: Self = Self(3);

    /// Checks a number of stars.
    ///
    /// # Errors
    /// `invalid_value` unless `stars` is 1, 2 or 3.
    pub const fn new(stars: u8) -> DomainResult<Self> {
        if stars >= Self::MIN.0 && stars <= Self::MAX.0 {
            Ok(Self(stars))
        } else {
            Err(DomainError::InvalidValue {
                field: "contact_rating",
                reason: "a contact is rated 1 to 3 stars",
            })
        }
    }

    /// The number of stars, 1 to 3.
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Stars {
    type Error = DomainError;

    fn try_from(value: u8) -> DomainResult<Self> {
        Self::new(value)
    }
}

impl From<Stars> for u8 {
    fn from(value: Stars) -> Self {
        value.0
    }
}

/// D13: the contact's answer on the satisfaction form: one of exactly three buttons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum Satisfaction {
    /// The first button, worth 1.
    Bad = 1,
    /// The second button, worth 2.
    Normal = 2,
    /// The third button, worth 3.
    Excellent = 3,
}

impl Satisfaction {
    /// The three answers, in the order of the form's buttons and labels.
    pub const ALL: [Self; 3] = [Self::Bad, Self::Normal, Self::Excellent];

    /// The recorded value: Bad = 1, Normal = 2, Excellent = 3.
    #[must_use]
    pub const fn value(self) -> u8 {
        self as u8
    }

    /// The answer worth `value`.
    ///
    /// # Errors
    /// `invalid_value` unless `value` is 1, 2 or 3.
    pub const fn from_value(value: u8) -> DomainResult<Self> {
        match value {
            1 => Ok(Self::Bad),
            2 => Ok(Self::Normal),
            3 => Ok(Self::Excellent),
            _ => Err(DomainError::InvalidValue {
                field: "satisfaction",
                reason: "the satisfaction form's buttons are worth 1, 2 or 3",
            }),
        }
    }

    /// The position of its button (and label) on the form, 0 to 2.
    #[must_use]
    pub const fn button_index(self) -> usize {
        self as usize - 1
    }
}

impl TryFrom<u8> for Satisfaction {
    type Error = DomainError;

    fn try_from(value: u8) -> DomainResult<Self> {
        Self::from_value(value)
    }
}

impl From<Satisfaction> for u8 {
    fn from(value: Satisfaction) -> Self {
        value.value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d12_stars_go_from_one_to_three() {
        for n in 1..=3 {
            assert_eq!(Stars::new(n).unwrap().get(), n);
        }
        for n in [0, 4, 5, u8::MAX] {
            assert_eq!(Stars::new(n).unwrap_err().code(), "invalid_value");
        }
    }

    #[test]
    fn d12_stars_serde_is_the_number_and_validates() {
        assert_eq!(serde_json::to_string(&Stars::MAX).unwrap(), "3");
        assert_eq!(serde_json::from_str::<Stars>("2").unwrap().get(), 2);
        assert!(serde_json::from_str::<Stars>("0").is_err());
        assert!(serde_json::from_str::<Stars>("4").is_err());
    }

    #[test]
    fn d13_satisfaction_values_are_bad_1_normal_2_excellent_3() {
        assert_eq!(Satisfaction::Bad.value(), 1);
        assert_eq!(Satisfaction::Normal.value(), 2);
        assert_eq!(Satisfaction::Excellent.value(), 3);
        for s in Satisfaction::ALL {
            assert_eq!(Satisfaction::from_value(s.value()).unwrap(), s);
            assert_eq!(Satisfaction::ALL[s.button_index()], s);
        }
        assert_eq!(
            Satisfaction::from_value(0).unwrap_err().code(),
            "invalid_value"
        );
        assert_eq!(
            Satisfaction::from_value(4).unwrap_err().code(),
            "invalid_value"
        );
    }

    #[test]
    fn d13_satisfaction_serde_is_the_value() {
        assert_eq!(serde_json::to_string(&Satisfaction::Normal).unwrap(), "2");
        assert_eq!(
            serde_json::from_str::<Satisfaction>("3").unwrap(),
            Satisfaction::Excellent
        );
        assert!(serde_json::from_str::<Satisfaction>("7").is_err());
    }
}
