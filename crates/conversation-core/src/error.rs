//! The one error type of the domain. Every variant has a stable machine code
//! ([`DomainError::code`]) that the HTTP layer puts in its problem documents and that clients
//! may match on; the human message says what went wrong and what to do next.
//! To add a case: add a variant with a lowercase message, give it a new code in `code`, and
//! list the code in `docs/state-machines.md`. Never change an existing code.

use chrono::Duration;
use thiserror::Error;

use crate::ids::{AgentId, DialogId};

/// A refused command or an invariant that would break.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DomainError {
    /// D3: the contact already has an active dialog.
    #[error("the contact already has an active dialog ({active}); pause or complete it first")]
    DialogAlreadyActive {
        /// The dialog that is active now.
        active: DialogId,
    },
    /// D5: the contact has an active dialog, so agents write inside it, not in the general chat.
    #[error("the contact has an active dialog ({active}); write inside that dialog")]
    WriteInsideActiveDialog {
        /// The dialog to write in.
        active: DialogId,
    },
    /// D6: nobody writes in a paused or completed dialog.
    #[error("the dialog is not active; resume it, or write in the general chat")]
    DialogNotActive,
    /// D4: a completed dialog is final.
    #[error("the dialog is completed and can no longer change")]
    DialogCompleted,
    /// C4: a free-form reply or a reopen outside the inbox's reply window.
    #[error("the reply window closed {closed_for} ago; send an approved template instead")]
    ReplyWindowClosed {
        /// How long ago the window closed.
        closed_for: Duration,
    },
    /// M2: `<` and `>` are reserved for template parameters on digital channels.
    #[error("the character '{character}' is reserved for template parameters; remove it")]
    ReservedCharacter {
        /// The refused character.
        character: char,
    },
    /// M2: the agent's text is longer than the inbox allows.
    #[error(
        "the message has {actual} characters, more than the {max} this inbox allows; shorten it"
    )]
    MessageTooLong {
        /// The inbox's limit.
        max: usize,
        /// The text's length in characters.
        actual: usize,
    },
    /// M2: the text is empty after trimming.
    #[error("the message is blank; write some text")]
    MessageBlank,
    /// M4: a quote must name a message of the same conversation.
    #[error("a message can only quote a message of the same conversation")]
    QuoteOutsideConversation,
    /// M5: a message can be deleted once.
    #[error("the message was already deleted")]
    MessageAlreadyDeleted,
    /// M5: only outbound messages written by agents can be deleted.
    #[error("only an agent's outbound message can be deleted")]
    MessageNotDeletable,
    /// M7: the file is larger than the inbox allows.
    #[error(
        "the file has {actual} bytes, more than the {max} this inbox allows; send a smaller file or a link"
    )]
    AttachmentTooLarge {
        /// The inbox's limit, in bytes.
        max: u64,
        /// The file's size, in bytes.
        actual: u64,
    },
    /// M7, S4: the file's type is not on the allow-list (SVG, HTML and scripts never are).
    #[error(
        "this file type is not allowed; send an image (png, jpeg, gif, webp), a pdf, plain text, csv, audio, video or an office document"
    )]
    AttachmentTypeNotAllowed,
    /// S4: the file's bytes are not of the type it was declared as.
    #[error(
        "the file's content is not {content_type}; upload it with the content type it really has"
    )]
    AttachmentContentMismatch {
        /// The declared (allowed) type.
        content_type: &'static str,
    },
    /// C7: the conversation lost its inbox or queue; it can only be ended with a wrap-up reason.
    #[error("the conversation was interrupted; end it with a wrap-up reason")]
    ConversationInterrupted,
    /// R10: the inbox makes a wrap-up reason mandatory (or the action always needs one).
    #[error("a wrap-up reason is required; pick one from the account's list")]
    WrapUpRequired,
    /// C5, A2, D10, R8, R9: the actor may not do this.
    #[error("you are not allowed to {action}")]
    Forbidden {
        /// What was attempted, in words.
        action: &'static str,
    },
    /// The command does not apply in the current state.
    #[error("cannot {command} while the {machine} is {state}")]
    InvalidTransition {
        /// The state machine (conversation, dialog, agent, ...).
        machine: &'static str,
        /// The current state, in words.
        state: &'static str,
        /// The refused command, in words.
        command: &'static str,
    },
    /// R1, R8, R9: the target agent is not available.
    #[error("agent {agent} is not available; pick an available agent or a queue")]
    AgentUnavailable {
        /// The agent that was asked for.
        agent: AgentId,
    },
    /// R2: the agent has no free capacity.
    #[error("agent {agent} has no free capacity; pick another agent or a queue")]
    CapacityExceeded {
        /// The agent that is full.
        agent: AgentId,
    },
    /// R6: there is no pending offer for this agent.
    #[error("there is no pending offer of this conversation to you")]
    OfferNotFound,
    /// R6: the offer's deadline has passed.
    #[error("the offer expired; the conversation went to the next agent or back to the queue")]
    OfferExpired,
    /// A value outside its allowed range.
    #[error("invalid {field}: {reason}")]
    InvalidValue {
        /// The field.
        field: &'static str,
        /// Why, in words.
        reason: &'static str,
    },
    /// A required field is missing or blank.
    #[error("{field} is required")]
    MissingField {
        /// The field.
        field: &'static str,
    },
    /// D12, D13: a rating that was already given.
    #[error("this rating was already recorded")]
    AlreadyRated,
    /// H2: the channel cannot do what was asked.
    #[error("this channel does not support {capability}")]
    CapabilityUnsupported {
        /// The missing capability.
        capability: &'static str,
    },
    /// A1: the thing does not exist, or belongs to another account.
    #[error("not found")]
    NotFound,
    /// A concurrent change won the race (optimistic version or unique constraint); reload and retry.
    #[error("{what} was changed by someone else; reload and try again")]
    Conflict {
        /// What was changed concurrently.
        what: &'static str,
    },
}

impl DomainError {
    /// The stable machine code of this error, as clients see it.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::DialogAlreadyActive { .. } => "dialog_already_active",
            Self::WriteInsideActiveDialog { .. } => "write_inside_active_dialog",
            Self::DialogNotActive => "dialog_not_active",
            Self::DialogCompleted => "dialog_completed",
            Self::ReplyWindowClosed { .. } => "reply_window_closed",
            Self::ReservedCharacter { .. } => "reserved_character",
            Self::MessageTooLong { .. } => "message_too_long",
            Self::MessageBlank => "message_blank",
            Self::QuoteOutsideConversation => "quote_outside_conversation",
            Self::MessageAlreadyDeleted => "message_already_deleted",
            Self::MessageNotDeletable => "message_not_deletable",
            Self::AttachmentTooLarge { .. } => "attachment_too_large",
            Self::AttachmentTypeNotAllowed => "attachment_type_not_allowed",
            Self::AttachmentContentMismatch { .. } => "attachment_content_mismatch",
            Self::ConversationInterrupted => "conversation_interrupted",
            Self::WrapUpRequired => "wrap_up_required",
            Self::Forbidden { .. } => "forbidden",
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::AgentUnavailable { .. } => "agent_unavailable",
            Self::CapacityExceeded { .. } => "capacity_exceeded",
            Self::OfferNotFound => "offer_not_found",
            Self::OfferExpired => "offer_expired",
            Self::InvalidValue { .. } => "invalid_value",
            Self::MissingField { .. } => "missing_field",
            Self::AlreadyRated => "already_rated",
            Self::CapabilityUnsupported { .. } => "capability_unsupported",
            Self::NotFound => "not_found",
            Self::Conflict { .. } => "conflict",
        }
    }
}

/// Shorthand for results of the domain.
pub type DomainResult<T> = Result<T, DomainError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_and_distinct() {
        let samples = [
            DomainError::DialogAlreadyActive {
                active: DialogId::from_u128(1),
            },
            DomainError::WriteInsideActiveDialog {
                active: DialogId::from_u128(1),
            },
            DomainError::DialogNotActive,
            DomainError::DialogCompleted,
            DomainError::ReplyWindowClosed {
                closed_for: Duration::hours(1),
            },
            DomainError::ReservedCharacter { character: '<' },
            DomainError::MessageTooLong { max: 1, actual: 2 },
            DomainError::MessageBlank,
            DomainError::QuoteOutsideConversation,
            DomainError::MessageAlreadyDeleted,
            DomainError::MessageNotDeletable,
            DomainError::AttachmentTooLarge { max: 1, actual: 2 },
            DomainError::AttachmentTypeNotAllowed,
            DomainError::AttachmentContentMismatch {
                content_type: "image/png",
            },
            DomainError::ConversationInterrupted,
            DomainError::WrapUpRequired,
            DomainError::Forbidden { action: "x" },
            DomainError::InvalidTransition {
                machine: "m",
                state: "s",
                command: "c",
            },
            DomainError::AgentUnavailable {
                agent: AgentId::from_u128(1),
            },
            DomainError::CapacityExceeded {
                agent: AgentId::from_u128(1),
            },
            DomainError::OfferNotFound,
            DomainError::OfferExpired,
            DomainError::InvalidValue {
                field: "f",
                reason: "r",
            },
            DomainError::MissingField { field: "f" },
            DomainError::AlreadyRated,
            DomainError::CapabilityUnsupported { capability: "c" },
            DomainError::NotFound,
            DomainError::Conflict { what: "w" },
        ];
        let mut codes: Vec<_> = samples.iter().map(DomainError::code).collect();
        assert!(
            codes
                .iter()
                .all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'))
        );
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), samples.len());
    }

    #[test]
    fn messages_say_what_to_do_next() {
        let e = DomainError::ReservedCharacter { character: '>' };
        assert!(e.to_string().contains("'>'"));
        assert!(DomainError::WrapUpRequired.to_string().contains("pick one"));
    }
}
