//! The production clock and id generator: the only place the system clock is read.

use std::sync::Mutex;

use chrono::{DurationRound, TimeDelta};
use conversation_core::Timestamp;
use conversation_core::ports::{Clock, IdGenerator};
use uuid::Uuid;

/// The system clock, truncated to microseconds (what the stores keep) and never going back.
#[derive(Debug, Default)]
pub struct SystemClock {
    last: Mutex<Option<Timestamp>>,
}

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        #[expect(
            clippy::disallowed_methods,
            reason = "the one system clock of the application"
        )]
        let read = chrono::Utc::now();
        let now = read
            .duration_trunc(TimeDelta::microseconds(1))
            .unwrap_or(read);
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = last.map_or(now, |last| now.max(last));
        *last = Some(now);
        now
    }
}

/// UUIDv7 ids: time-ordered, so new rows land at the end of indexes.
#[derive(Debug, Default)]
pub struct UuidV7Ids;

impl IdGenerator for UuidV7Ids {
    fn new_uuid(&self, at: Timestamp) -> Uuid {
        let seconds = u64::try_from(at.timestamp()).unwrap_or(0);
        let timestamp =
            uuid::Timestamp::from_unix(uuid::NoContext, seconds, at.timestamp_subsec_nanos());
        Uuid::new_v7(timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_never_goes_back_and_keeps_microseconds() {
        let clock = SystemClock::default();
        let a = clock.now();
        let b = clock.now();
        assert!(b >= a);
        assert_eq!(a.timestamp_subsec_nanos() % 1000, 0);
    }

    #[test]
    fn v7_ids_are_unique_and_time_ordered() {
        let ids = UuidV7Ids;
        let clock = SystemClock::default();
        let first = ids.new_uuid(clock.now());
        let later = ids.new_uuid(clock.now() + chrono::Duration::milliseconds(5));
        assert_ne!(first, later);
        assert!(first < later);
    }
}
