//! M2: validation of the chat text an agent writes. [`validate_agent_text`] is the only way to
//! make an [`AgentText`], so code that holds one can trust it: not blank, within the inbox's
//! limit, and free of `<` and `>` on channels that reserve them for template parameters.
//!
//! The text is trimmed: whitespace (line breaks included) and zero-width characters at both
//! ends are removed, because a reply that starts or ends with empty lines is a typing accident.
//! Everything between is kept exactly as written, line breaks (`\n` or `\r\n`) included. The
//! limit counts the trimmed text in characters (Unicode scalar values), not bytes, so an Arabic or
//! Cyrillic reply gets the same room as a Latin one. Card numbers are not masked here: that
//! happens to every body when the message is made ([`Message::create`](super::Message::create)).

use std::fmt;

use crate::error::{DomainError, DomainResult};

/// Agent-written chat text that passed [`validate_agent_text`] (M2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AgentText(String);

impl AgentText {
    /// The validated text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The validated text, owned.
    #[must_use]
    pub fn into_inner(self) -> String {
        self.0
    }

    /// Its length in characters, as the limit counts it.
    #[must_use]
    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }
}

impl AsRef<str> for AgentText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgentText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<AgentText> for String {
    fn from(text: AgentText) -> Self {
        text.0
    }
}

/// Whether a character counts as blank: Unicode whitespace (line breaks included) or one of the
/// invisible zero-width characters a paste can leave behind.
fn is_blank(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
        )
}

/// M2: checks an agent's chat text and returns it trimmed.
///
/// `limit` is the inbox's maximum in characters (`InboxSettings::text_limit`, 1000 by
/// default); `reserves_angle_brackets` is the channel's `Capabilities::reserves_angle_brackets`.
/// The checks run in this order, and the first that fails is reported.
///
/// # Errors
/// `message_blank` when nothing but whitespace is left after trimming; `message_too_long` with
/// the limit and the actual character count; `reserved_character` naming the first `<` or `>`
/// when the channel reserves them.
pub fn validate_agent_text(
    text: &str,
    limit: usize,
    reserves_angle_brackets: bool,
) -> DomainResult<AgentText> {
    let trimmed = text.trim_matches(is_blank);
    if trimmed.is_empty() {
        return Err(DomainError::MessageBlank);
    }
    let actual = trimmed.chars().count();
    if actual > limit {
        return Err(DomainError::MessageTooLong { max: limit, actual });
    }
    if reserves_angle_brackets {
        if let Some(character) = trimmed.chars().find(|c| matches!(c, '<' | '>')) {
            return Err(DomainError::ReservedCharacter { character });
        }
    }
    Ok(AgentText(trimmed.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn m2_text_is_trimmed_and_inner_line_breaks_are_kept() {
        let text = validate_agent_text("\n  Hello,\n\nyour order shipped.  \r\n", 1000, true)
            .expect("valid text");
        assert_eq!(text.as_str(), "Hello,\n\nyour order shipped.");
        assert_eq!(text.clone().into_inner(), "Hello,\n\nyour order shipped.");
        assert_eq!(text.to_string(), text.as_str());
    }

    #[test]
    fn m2_blank_text_is_refused() {
        for blank in [
            "",
            "   ",
            "\n\r\n\t",
            "\u{200B}\u{FEFF} \u{2060}",
            "\u{3000}",
        ] {
            assert_eq!(
                validate_agent_text(blank, 1000, false),
                Err(DomainError::MessageBlank),
                "{blank:?}"
            );
        }
    }

    #[test]
    fn m2_limit_counts_characters_not_bytes() {
        // 1000 Arabic letters are 2000 bytes but exactly the limit.
        let arabic = "ب".repeat(1000);
        assert_eq!(
            validate_agent_text(&arabic, 1000, true)
                .unwrap()
                .char_count(),
            1000
        );
        let too_long = "ж".repeat(1001);
        assert_eq!(
            validate_agent_text(&too_long, 1000, true),
            Err(DomainError::MessageTooLong {
                max: 1000,
                actual: 1001
            })
        );
    }

    #[test]
    fn m2_limit_applies_to_the_trimmed_text() {
        let padded = format!("   {}   ", "a".repeat(10));
        assert!(validate_agent_text(&padded, 10, true).is_ok());
        assert_eq!(
            validate_agent_text("abcdefghijk", 10, true),
            Err(DomainError::MessageTooLong {
                max: 10,
                actual: 11
            })
        );
    }

    #[test]
    fn m2_per_inbox_limit_is_respected() {
        assert!(validate_agent_text("short", 5, false).is_ok());
        assert_eq!(
            validate_agent_text("longer", 5, false).unwrap_err().code(),
            "message_too_long"
        );
    }

    #[test]
    fn m2_angle_brackets_are_refused_on_digital_channels_naming_the_character() {
        assert_eq!(
            validate_agent_text("a > b", 1000, true),
            Err(DomainError::ReservedCharacter { character: '>' })
        );
        assert_eq!(
            validate_agent_text("Dear <name>", 1000, true),
            Err(DomainError::ReservedCharacter { character: '<' })
        );
        let error = validate_agent_text("x<y", 1000, true).unwrap_err();
        assert!(error.to_string().contains("'<'"));
    }

    #[test]
    fn m2_angle_brackets_are_allowed_where_the_channel_does_not_reserve_them() {
        // Email does not reserve them.
        assert_eq!(
            validate_agent_text("a <b> c", 1000, false)
                .unwrap()
                .as_str(),
            "a <b> c"
        );
    }
}
