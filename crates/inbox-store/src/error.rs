//! The one place where driver errors become the store's errors (convention 4): unique and
//! check violations become the domain's conflicts, lost connections become `Unavailable`,
//! everything else `Internal`. SQLite names the violated columns, PostgreSQL the index; both
//! are recognised.

use conversation_core::DomainError;
use conversation_core::ports::StoreError;

/// A uniqueness or check rule of the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Violation {
    /// D3: `dialogs_one_active_per_contact`.
    ActiveDialog,
    /// C1: `conversations_one_live_per_contact_inbox`.
    LiveConversation,
    /// M8: `messages_external_per_inbox`.
    MessageExternalId,
    /// M8: `messages_client_per_conversation`.
    MessageClientId,
    /// D8, M8: `held_messages_client`.
    HeldClientId,
    /// `agents_email_key`.
    AgentEmail,
    /// `contact_identities` primary key.
    ContactIdentity,
    /// A session or API token hash.
    TokenHash,
    /// R2: `agents_load_within_bounds`.
    LoadBounds,
    /// Any primary key (an id used twice).
    PrimaryKey,
    /// Another rule.
    Other,
}

/// The rule a database error broke, if it is a uniqueness or check violation.
#[must_use]
pub fn violation(error: &sqlx::Error) -> Option<Violation> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    if !(db.is_unique_violation() || db.is_check_violation()) {
        return None;
    }
    // PostgreSQL names the constraint; SQLite's message names the columns.
    let name = db
        .constraint()
        .map_or_else(|| db.message().to_owned(), str::to_owned);
    let has = |needle: &str| name.contains(needle);
    Some(if has("held_messages") {
        Violation::HeldClientId
    } else if has("dialogs_one_active") || has("dialogs.contact_id") {
        Violation::ActiveDialog
    } else if has("conversations_one_live") || has("conversations.contact_id") {
        Violation::LiveConversation
    } else if has("messages_external") || has("messages.inbox_id") {
        Violation::MessageExternalId
    } else if has("messages_client") || has("messages.client_id") {
        Violation::MessageClientId
    } else if has("agents_email") || has("agents.email_key") {
        Violation::AgentEmail
    } else if has("contact_identities") {
        Violation::ContactIdentity
    } else if has("token_hash") {
        Violation::TokenHash
    } else if has("load_within_bounds") || has("load >= 0") {
        Violation::LoadBounds
    } else if has("_pkey") || has(".id") {
        Violation::PrimaryKey
    } else {
        Violation::Other
    })
}

/// Whether the error means the database cannot be reached right now.
#[must_use]
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed
    )
}

/// A driver error as a store error, with `what` naming the thing for conflicts.
#[must_use]
pub fn store_error(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &error {
        // PostgreSQL's deadlock and serialization failures: a lost race, to retry.
        if matches!(db.code().as_deref(), Some("40P01" | "40001")) {
            return DomainError::Conflict {
                what: "a concurrent change",
            }
            .into();
        }
    }
    match violation(&error) {
        Some(Violation::AgentEmail) => DomainError::Conflict {
            what: "an agent with this email",
        }
        .into(),
        Some(Violation::ContactIdentity) => DomainError::Conflict {
            what: "the contact's channel identity",
        }
        .into(),
        Some(Violation::LiveConversation) => DomainError::Conflict {
            what: "the contact's open conversation on this inbox",
        }
        .into(),
        Some(Violation::TokenHash | Violation::PrimaryKey) => DomainError::Conflict {
            what: "a record with this id",
        }
        .into(),
        Some(Violation::LoadBounds) => DomainError::Conflict {
            what: "the agent's load",
        }
        .into(),
        Some(Violation::ActiveDialog) => DomainError::Conflict {
            what: "the contact's active dialog",
        }
        .into(),
        Some(
            Violation::MessageExternalId | Violation::MessageClientId | Violation::HeldClientId,
        ) => DomainError::Conflict {
            what: "the message",
        }
        .into(),
        Some(Violation::Other) | None if is_unavailable(&error) => {
            StoreError::Unavailable(Box::new(error))
        }
        Some(Violation::Other) | None => StoreError::Internal(Box::new(error)),
    }
}

/// Shorthand for the store's results.
pub type StoreResult<T> = Result<T, StoreError>;

/// Maps driver errors with `?`.
pub trait OrStoreError<T> {
    /// The result with its error as a store error.
    ///
    /// # Errors
    /// The mapped error.
    fn store(self) -> StoreResult<T>;
}

impl<T> OrStoreError<T> for Result<T, sqlx::Error> {
    fn store(self) -> StoreResult<T> {
        self.map_err(store_error)
    }
}

/// JSON that does not serialize or deserialize: a bug or a corrupt row.
#[must_use]
pub fn json_error(error: serde_json::Error) -> StoreError {
    StoreError::Internal(Box::new(error))
}
