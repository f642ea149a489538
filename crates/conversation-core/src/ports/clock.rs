//! The clock port. The core never reads the time: use cases ask a [`Clock`] and pass the time
//! into `decide`. Production uses the system clock adapter of the application layer (the only
//! place allowed to call `Utc::now`, see `clippy.toml`); tests use [`ManualClock`].

use std::sync::{Mutex, PoisonError};

use chrono::Duration;

use crate::Timestamp;

/// Tells the time.
pub trait Clock: Send + Sync {
    /// The current time. Guarantee: never earlier than a time this clock returned before
    /// (adapters clamp a system clock that steps backwards).
    fn now(&self) -> Timestamp;
}

/// A clock that moves only when told: for tests of timers and windows, which never sleep.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    /// A clock standing at `start`.
    #[must_use]
    pub const fn new(start: Timestamp) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock forward by `by` (a negative duration is ignored: time never goes back).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        if by > Duration::zero() {
            *now += by;
        }
    }

    /// Sets the clock to `to`, if that is not earlier than now.
    pub fn set(&self, to: Timestamp) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        if to > *now {
            *now = to;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn manual_clock_moves_only_forward_when_told() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::seconds(30));
        assert_eq!(clock.now(), start + Duration::seconds(30));
        clock.advance(Duration::seconds(-10));
        clock.set(start);
        assert_eq!(clock.now(), start + Duration::seconds(30));
    }
}
