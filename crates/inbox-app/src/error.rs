//! The errors of the use cases. Domain refusals keep their stable code; storage trouble becomes
//! `unavailable` (retry later) or `internal` (details only in the server log, S10).

use conversation_core::DomainError;
use conversation_core::ports::StoreError;
use thiserror::Error;

/// Why a use case did not do what was asked.
#[derive(Debug, Error)]
pub enum AppError {
    /// A rule of the domain refused it (codes of `DomainError::code`).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// No valid credentials were given (401).
    #[error("sign in first: the credentials are missing, wrong, expired or revoked")]
    Unauthenticated,
    /// Too many requests from this client (429, W3, S8).
    #[error("too many requests; try again in {retry_after_secs} s")]
    RateLimited {
        /// When a new request has a chance, in seconds (`Retry-After`).
        retry_after_secs: u64,
    },
    /// M8: the message was stored before (a retry); the use case answers with the stored one.
    #[error("message already stored as {existing}")]
    Duplicate {
        /// The stored message.
        existing: conversation_core::ids::MessageId,
    },
    /// A4, S7: a channel webhook without a valid signature (401); nothing was stored.
    #[error("the webhook's signature is missing or invalid: {0}")]
    InvalidSignature(String),
    /// H1: a channel connection its adapter refused (422), with the adapter's sentence.
    #[error("{0}")]
    InvalidConnection(String),
    /// The request is malformed beyond what a domain rule covers (400).
    #[error("{0}")]
    BadRequest(String),
    /// The database cannot be reached (503).
    #[error("the service is temporarily unavailable; try again shortly")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else (500); details go to the log only.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// The stable machine code clients see.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Domain(error) => error.code(),
            Self::Unauthenticated => "unauthenticated",
            Self::RateLimited { .. } => "rate_limited",
            Self::Duplicate { .. } => "duplicate",
            Self::InvalidSignature(_) => "invalid_signature",
            Self::InvalidConnection(_) => "invalid_connection",
            Self::BadRequest(_) => "bad_request",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// An internal error from anything.
    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(error))
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Domain(error) => Self::Domain(error),
            StoreError::Duplicate { existing } => Self::Duplicate { existing },
            StoreError::Unavailable(source) => Self::Unavailable(source),
            StoreError::Internal(source) => Self::Internal(source),
        }
    }
}

/// Shorthand for use-case results.
pub type AppResult<T> = Result<T, AppError>;
