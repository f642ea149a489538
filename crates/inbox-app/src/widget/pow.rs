//! W3: the proof-of-work challenge a browser solves before it may start a conversation, so
//! that scripts cannot flood an inbox. No third-party service: the server signs its own
//! challenges and keeps no state for them until one is spent.
//!
//! The scheme, version 1 (what the JavaScript widget implements):
//!
//! 1. `GET /api/v1/widget/inboxes/{inbox}/challenge` answers `challenge`, `nonce`, `difficulty`
//!    and `expires_at`. `nonce` is 16 random bytes in unpadded base64url (22 characters);
//!    `challenge` is `"{nonce}.{expires}.{difficulty}.{mac}"`, where `expires` is the expiry in
//!    Unix seconds and `mac` is the unpadded base64url of
//!    `HMAC-SHA256(server key, "pow1:{inbox id}:{nonce}:{expires}:{difficulty}")`. The server
//!    key is 32 random bytes generated when the process starts, held in memory only.
//! 2. The browser looks for a `solution`: a string of 1 to 32 characters from `[0-9A-Za-z_-]`
//!    (a decimal counter counting up from 0 is the simplest), such that
//!    `SHA-256(UTF-8 bytes of nonce followed by the UTF-8 bytes of solution)` starts with at
//!    least `difficulty` zero bits (most significant bit of the first byte first). It takes
//!    `2^difficulty` hashes on average: with the default 16 bits, about 65 000 hashes, roughly
//!    a second for a browser using `crypto.subtle.digest` and well under for plain JavaScript.
//! 3. It sends `challenge` (unchanged) and `solution` when it starts its session. The server
//!    checks the signature (so the nonce, expiry, difficulty and inbox are its own), the expiry,
//!    the hash, and that the nonce was never spent: each challenge opens exactly one session.
//!    Spent nonces are remembered until they expire, in a bounded set.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use conversation_core::ids::InboxId;
use conversation_core::{DomainError, Timestamp};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

/// The most leading zero bits a challenge may ask for.
pub const MAX_DIFFICULTY: u8 = 32;

/// A challenge as the widget receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The token to send back unchanged with the solution.
    pub challenge: String,
    /// The prefix of the hashed string.
    pub nonce: String,
    /// The leading zero bits the hash needs.
    pub difficulty: u8,
    /// When the challenge stops being accepted.
    pub expires_at: Timestamp,
}

/// Issues and redeems challenges.
pub(crate) struct Challenger {
    key: [u8; 32],
    ttl: Duration,
    max_spent: usize,
    spent: Mutex<HashMap<String, Timestamp>>,
}

impl std::fmt::Debug for Challenger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenger")
            .field("ttl", &self.ttl)
            .field("max_spent", &self.max_spent)
            .finish_non_exhaustive()
    }
}

fn invalid(reason: &'static str) -> AppError {
    DomainError::InvalidValue {
        field: "challenge",
        reason,
    }
    .into()
}

/// The number of leading zero bits of a digest.
#[must_use]
pub fn leading_zero_bits(digest: &[u8]) -> u32 {
    let mut bits = 0;
    for byte in digest {
        if *byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

/// Whether `solution` solves a challenge of this nonce and difficulty.
#[must_use]
pub fn solves(nonce: &str, solution: &str, difficulty: u8) -> bool {
    let mut hasher = Sha256::new();
    hasher.update(nonce.as_bytes());
    hasher.update(solution.as_bytes());
    leading_zero_bits(&hasher.finalize()) >= u32::from(difficulty)
}

/// A solution by brute force (for tests and tools; the widget does this in JavaScript).
#[must_use]
pub fn solve(nonce: &str, difficulty: u8) -> String {
    (0u64..)
        .map(|n| n.to_string())
        .find(|candidate| solves(nonce, candidate, difficulty))
        .unwrap_or_default()
}

fn valid_solution(solution: &str) -> bool {
    (1..=32).contains(&solution.len())
        && solution
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Challenger {
    pub(crate) fn new(key: [u8; 32], ttl: Duration, max_spent: usize) -> Self {
        Self {
            key,
            ttl,
            max_spent: max_spent.max(1),
            spent: Mutex::new(HashMap::new()),
        }
    }

    fn mac(&self, inbox: InboxId, nonce: &str, expires: i64, difficulty: u8) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(format!("pow1:{inbox}:{nonce}:{expires}:{difficulty}").as_bytes());
        mac
    }

    /// A new challenge for the inbox.
    pub(crate) fn issue(
        &self,
        inbox: InboxId,
        difficulty: u8,
        nonce: [u8; 16],
        now: Timestamp,
    ) -> Challenge {
        let difficulty = difficulty.min(MAX_DIFFICULTY);
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let expires_at = now + self.ttl;
        let expires = expires_at.timestamp();
        let mac = URL_SAFE_NO_PAD.encode(
            self.mac(inbox, &nonce, expires, difficulty)
                .finalize()
                .into_bytes(),
        );
        Challenge {
            challenge: format!("{nonce}.{expires}.{difficulty}.{mac}"),
            nonce,
            difficulty,
            expires_at: chrono::DateTime::from_timestamp(expires, 0).unwrap_or(expires_at),
        }
    }

    /// Checks a solved challenge and spends it.
    ///
    /// # Errors
    /// `invalid_value` (field `challenge`) for a token this server did not issue for this inbox,
    /// an expired one, a wrong solution or a spent challenge; `rate_limited` when too many
    /// challenges are spent at once to remember them all.
    pub(crate) fn redeem(
        &self,
        inbox: InboxId,
        token: &str,
        solution: &str,
        now: Timestamp,
    ) -> AppResult<()> {
        let mut parts = token.split('.');
        let (Some(nonce), Some(expires), Some(difficulty), Some(mac), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(invalid("not a challenge of this server"));
        };
        let expires: i64 = expires
            .parse()
            .map_err(|_| invalid("not a challenge of this server"))?;
        let difficulty: u8 = difficulty
            .parse()
            .map_err(|_| invalid("not a challenge of this server"))?;
        let mac = URL_SAFE_NO_PAD
            .decode(mac)
            .map_err(|_| invalid("not a challenge of this server"))?;
        self.mac(inbox, nonce, expires, difficulty)
            .verify_slice(&mac)
            .map_err(|_| invalid("not a challenge of this server for this inbox"))?;
        if expires <= now.timestamp() {
            return Err(invalid("expired; ask for a new one"));
        }
        if !valid_solution(solution) || !solves(nonce, solution, difficulty) {
            return Err(invalid("the solution does not solve it"));
        }
        let mut spent = self.spent.lock().unwrap_or_else(PoisonError::into_inner);
        if spent.contains_key(nonce) {
            return Err(invalid("already used; ask for a new one"));
        }
        if spent.len() >= self.max_spent {
            let now_secs = now.timestamp();
            spent.retain(|_, until| until.timestamp() > now_secs);
            if spent.len() >= self.max_spent {
                return Err(AppError::RateLimited {
                    retry_after_secs: u64::try_from(self.ttl.num_seconds().max(1)).unwrap_or(1),
                });
            }
        }
        let until = chrono::DateTime::from_timestamp(expires, 0).unwrap_or(now);
        spent.insert(nonce.to_owned(), until);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t(secs: i64) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::seconds(secs)
    }

    const INBOX: InboxId = InboxId::from_u128(1);

    fn challenger() -> Challenger {
        Challenger::new([7; 32], Duration::seconds(120), 3)
    }

    #[test]
    fn w3_leading_zero_bits_count_from_the_first_byte() {
        assert_eq!(leading_zero_bits(&[0, 0, 0x0f, 0xff]), 20);
        assert_eq!(leading_zero_bits(&[0x80]), 0);
        assert_eq!(leading_zero_bits(&[0, 0]), 16);
    }

    #[test]
    fn w3_a_solved_challenge_opens_once() {
        let c = challenger();
        let issued = c.issue(INBOX, 8, [1; 16], t(0));
        assert_eq!(issued.nonce.len(), 22);
        assert_eq!(issued.expires_at, t(120));
        let solution = solve(&issued.nonce, 8);
        assert!(solves(&issued.nonce, &solution, 8));
        c.redeem(INBOX, &issued.challenge, &solution, t(1)).unwrap();
        let again = c
            .redeem(INBOX, &issued.challenge, &solution, t(2))
            .unwrap_err();
        assert_eq!(
            again.to_string(),
            "invalid challenge: already used; ask for a new one"
        );
    }

    #[test]
    fn w3_wrong_expired_forged_or_foreign_challenges_are_refused() {
        let c = challenger();
        let issued = c.issue(INBOX, 8, [2; 16], t(0));
        let solution = solve(&issued.nonce, 8);
        let wrong = (0u64..)
            .map(|n| n.to_string())
            .find(|s| !solves(&issued.nonce, s, 8))
            .unwrap();
        let code = |r: AppResult<()>| r.unwrap_err().code();
        assert_eq!(
            code(c.redeem(INBOX, &issued.challenge, &wrong, t(1))),
            "invalid_value"
        );
        assert_eq!(
            code(c.redeem(INBOX, &issued.challenge, &solution, t(120))),
            "invalid_value",
            "expired"
        );
        let other_inbox = InboxId::from_u128(2);
        assert_eq!(
            code(c.redeem(other_inbox, &issued.challenge, &solution, t(1))),
            "invalid_value",
            "bound to its inbox"
        );
        // Lowering the difficulty breaks the signature.
        let easier = issued.challenge.replacen(".8.", ".0.", 1);
        assert_eq!(code(c.redeem(INBOX, &easier, "0", t(1))), "invalid_value");
        let other_key = Challenger::new([8; 32], Duration::seconds(120), 3);
        assert_eq!(
            code(other_key.redeem(INBOX, &issued.challenge, &solution, t(1))),
            "invalid_value"
        );
        assert_eq!(code(c.redeem(INBOX, "garbage", "0", t(1))), "invalid_value");
        assert_eq!(
            code(c.redeem(INBOX, &issued.challenge, "not valid!", t(1))),
            "invalid_value"
        );
        // The refusals spent nothing: the right solution still works.
        c.redeem(INBOX, &issued.challenge, &solution, t(1)).unwrap();
    }

    #[test]
    fn w3_spent_nonces_are_bounded_and_forgotten_after_expiry() {
        let c = challenger();
        let redeem = |seed: u8, at: i64| {
            let issued = c.issue(INBOX, 4, [seed; 16], t(at));
            let solution = solve(&issued.nonce, 4);
            c.redeem(INBOX, &issued.challenge, &solution, t(at))
        };
        for seed in 0..3 {
            redeem(seed, 0).unwrap();
        }
        let full = redeem(3, 0).unwrap_err();
        assert_eq!(full.code(), "rate_limited");
        // Once the first ones expire, their room is reused.
        redeem(4, 121).unwrap();
        assert!(c.spent.lock().unwrap().len() <= 3);
    }
}
