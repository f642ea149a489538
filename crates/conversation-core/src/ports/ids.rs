//! The id port. The core never makes an id: use cases ask an [`IdGenerator`] for a UUID and
//! wrap it in the right newtype. Production generates UUIDv7 (time-ordered, so new rows land at
//! the end of indexes); tests use [`SequentialIds`] for readable, repeatable ids.

use std::sync::atomic::{AtomicU64, Ordering};

use uuid::Uuid;

use crate::Timestamp;

/// Makes new unique ids.
pub trait IdGenerator: Send + Sync {
    /// A new id, never returned before by this generator, for something created at `at`.
    /// Guarantee: ids of one generator made at increasing times sort in that order.
    fn new_uuid(&self, at: Timestamp) -> Uuid;
}

/// Ids 1, 2, 3, ... as UUIDs: for tests.
#[derive(Debug, Default)]
pub struct SequentialIds {
    next: AtomicU64,
}

impl IdGenerator for SequentialIds {
    fn new_uuid(&self, _at: Timestamp) -> Uuid {
        Uuid::from_u128(u128::from(self.next.fetch_add(1, Ordering::Relaxed) + 1))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn sequential_ids_are_unique_and_ordered() {
        let ids = SequentialIds::default();
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let a = ids.new_uuid(at);
        let b = ids.new_uuid(at);
        assert!(a < b);
        assert_eq!(a, Uuid::from_u128(1));
    }
}
