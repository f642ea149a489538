//! The cross-process realtime doorbell (N1 on several server processes). A store shared by
//! several processes rings the doorbell once per commit that appended events, with the range
//! of sequences it appended, when (and only if) the commit succeeds; every process listens and
//! lets its realtime hub read those events from the log and publish them to its own
//! subscribers. A store used by one process only (SQLite) has no doorbell: its commits are all
//! published by the process that made them.

use async_trait::async_trait;

use super::commit::StoreError;
use crate::ids::AccountId;

/// One committed range of an account's event log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ring {
    /// The account.
    pub account: AccountId,
    /// The first sequence the commit appended.
    pub first: u64,
    /// The last sequence the commit appended.
    pub last: u64,
}

/// What a listener heard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rung {
    /// A commit appended these events.
    Ring(Ring),
    /// The listener lost its connection and listens again: rings may have been missed, so every
    /// account's log should be read again from what was last published.
    Missed,
}

/// Hears the rings of every process's commits.
#[async_trait]
pub trait DoorbellListener: Send {
    /// Waits for the next ring.
    ///
    /// # Errors
    /// When the database cannot be reached; calling again reconnects.
    async fn next(&mut self) -> Result<Rung, StoreError>;
}

/// The doorbell of a store.
#[async_trait]
pub trait Doorbell: Send + Sync {
    /// Starts listening; `None` when the store serves one process only and has no doorbell.
    ///
    /// # Errors
    /// When the database cannot be reached.
    async fn listen(&self) -> Result<Option<Box<dyn DoorbellListener>>, StoreError>;
}
