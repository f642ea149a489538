//! Passwords and tokens (A3, S9): passwords hashed with Argon2id and a random salt; tokens are
//! 256 random bits, shown once, stored only as their SHA-256. Token prefixes tell their kind
//! and make leaked tokens easy to recognise in code reviews and scanners.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

/// What a bearer token opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// An agent's session.
    AgentSession,
    /// A widget visitor's session.
    VisitorSession,
    /// An integration's API token.
    ApiToken,
}

impl TokenKind {
    const fn prefix(self) -> &'static str {
        match self {
            Self::AgentSession => "ias_",
            Self::VisitorSession => "iav_",
            Self::ApiToken => "iat_",
        }
    }

    /// The kind of a presented token, from its prefix.
    #[must_use]
    pub fn of(token: &str) -> Option<Self> {
        [Self::AgentSession, Self::VisitorSession, Self::ApiToken]
            .into_iter()
            .find(|kind| token.starts_with(kind.prefix()))
    }
}

/// Random bytes from the operating system.
///
/// # Errors
/// When the system has no randomness to give (never on a working machine).
pub fn random_bytes<const N: usize>() -> AppResult<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(e.to_string().into()))?;
    Ok(bytes)
}

/// A new token of this kind.
///
/// # Errors
/// See [`random_bytes`].
pub fn new_token(kind: TokenKind) -> AppResult<String> {
    Ok(format!(
        "{}{}",
        kind.prefix(),
        URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)
    ))
}

/// What the store keeps of a token.
#[must_use]
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A readable random password (for the owner's first start).
///
/// # Errors
/// See [`random_bytes`].
pub fn new_password() -> AppResult<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<18>()?))
}

/// Hashes a password with Argon2id and a fresh salt.
///
/// # Errors
/// `invalid_value` for a password shorter than 8 characters.
pub fn hash_password(password: &str) -> AppResult<String> {
    if password.chars().count() < 8 {
        return Err(conversation_core::DomainError::InvalidValue {
            field: "password",
            reason: "must have at least 8 characters",
        }
        .into());
    }
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| AppError::Internal(e.to_string().into()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Internal(e.to_string().into()))
}

/// Whether the password matches the stored hash (constant-time comparison inside argon2).
#[must_use]
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s9_passwords_are_salted_slow_hashes_that_verify() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert_ne!(a, b, "a fresh salt each time");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &a));
        assert!(!verify_password("wrong horse", &a));
        assert_eq!(hash_password("short").unwrap_err().code(), "invalid_value");
    }

    #[test]
    fn s9_tokens_are_random_prefixed_and_stored_as_hashes() {
        let token = new_token(TokenKind::AgentSession).unwrap();
        assert_eq!(TokenKind::of(&token), Some(TokenKind::AgentSession));
        assert_ne!(token, new_token(TokenKind::AgentSession).unwrap());
        assert_eq!(token_hash(&token).len(), 64);
        assert!(!token_hash(&token).contains(&token[4..]));
        assert_eq!(TokenKind::of("Bearer nonsense"), None);
    }
}
