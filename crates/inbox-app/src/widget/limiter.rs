//! W3, S8: in-memory rate limits, one token bucket per key (an IP address, a visitor).
//!
//! Each bucket holds up to `burst` requests and regains one every `every`. It is kept as a
//! single instant, the GCRA "theoretical arrival time" (`tat`): a request at `now` is allowed
//! when `tat - now <= every * (burst - 1)`, and then pushes `tat` one interval later. A key
//! whose `tat` is in the past has a full bucket, so forgetting it changes nothing: that is how
//! memory stays bounded. When the map reaches `max_keys`, idle keys are dropped first, then, if
//! an attacker keeps that many keys busy at once, the half closest to idle.
//!
//! Time comes from the caller (the application's `Clock`), so tests drive it by hand.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use chrono::Duration;
use conversation_core::Timestamp;

/// How fast one key may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed at once after a quiet period (at least 1).
    pub burst: u32,
    /// One more request is allowed after each such interval, in milliseconds (at least 1).
    pub every_ms: u32,
}

impl Rate {
    /// `burst` at once, then one every `every_ms` milliseconds.
    #[must_use]
    pub const fn new(burst: u32, every_ms: u32) -> Self {
        Self { burst, every_ms }
    }

    fn interval(self) -> Duration {
        Duration::milliseconds(i64::from(self.every_ms.max(1)))
    }

    fn tolerance(self) -> Duration {
        self.interval() * i32::try_from(self.burst.max(1) - 1).unwrap_or(i32::MAX)
    }
}

/// Token buckets by key, bounded in memory.
#[derive(Debug)]
pub struct Limiter<K> {
    rate: Rate,
    max_keys: usize,
    buckets: Mutex<HashMap<K, Timestamp>>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// Buckets of this rate, remembering at most `max_keys` keys (at least 2).
    #[must_use]
    pub fn new(rate: Rate, max_keys: usize) -> Self {
        Self {
            rate,
            max_keys: max_keys.max(2),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket at `now`.
    ///
    /// # Errors
    /// When the bucket is empty: the seconds until one request is allowed again (at least 1),
    /// for `Retry-After`.
    pub fn check(&self, key: &K, now: Timestamp) -> Result<(), u64> {
        let interval = self.rate.interval();
        let tolerance = self.rate.tolerance();
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let tat = match buckets.get(key) {
            Some(tat) => (*tat).max(now),
            None => {
                if buckets.len() >= self.max_keys {
                    Self::evict(&mut buckets, self.max_keys, now);
                }
                now
            }
        };
        let allowed_at = tat - tolerance;
        if allowed_at > now {
            let wait = allowed_at - now;
            let secs = wait.num_seconds() + i64::from(wait.subsec_nanos() > 0);
            return Err(u64::try_from(secs.max(1)).unwrap_or(1));
        }
        buckets.insert(key.clone(), tat + interval);
        Ok(())
    }

    /// How many keys are remembered.
    #[must_use]
    pub fn len(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no key is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn evict(buckets: &mut HashMap<K, Timestamp>, max_keys: usize, now: Timestamp) {
        buckets.retain(|_, tat| *tat > now);
        if buckets.len() >= max_keys {
            let mut tats: Vec<Timestamp> = buckets.values().copied().collect();
            let middle = tats.len() / 2;
            let (_, median, _) = tats.select_nth_unstable(middle);
            let median = *median;
            buckets.retain(|_, tat| *tat > median);
        }
    }
}

/// The key of an address: IPv4 as is, IPv6 by its /64 network (one subscriber usually holds a
/// whole /64, so counting single IPv6 addresses would let one machine rotate through millions).
#[must_use]
pub fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !u128::from(u64::MAX);
                IpAddr::V6(bits.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t(ms: i64) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::milliseconds(ms)
    }

    #[test]
    fn w3_s8_a_burst_then_one_per_interval() {
        let limiter = Limiter::new(Rate::new(3, 1000), 100);
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(limiter.check(&ip, t(0)), Ok(()));
        }
        assert_eq!(
            limiter.check(&ip, t(0)),
            Err(1),
            "the fourth at once is refused"
        );
        assert_eq!(limiter.check(&ip, t(500)), Err(1));
        assert_eq!(
            limiter.check(&ip, t(1000)),
            Ok(()),
            "one more after an interval"
        );
        assert_eq!(limiter.check(&ip, t(1000)), Err(1));
        // After a quiet period the whole burst is back, never more.
        for _ in 0..3 {
            assert_eq!(limiter.check(&ip, t(60_000)), Ok(()));
        }
        assert!(limiter.check(&ip, t(60_000)).is_err());
    }

    #[test]
    fn w3_s8_flooding_one_ip_does_not_limit_another() {
        let limiter = Limiter::new(Rate::new(2, 10_000), 100);
        let flooder: IpAddr = "198.51.100.1".parse().unwrap();
        let other: IpAddr = "198.51.100.2".parse().unwrap();
        let refused = (0..50)
            .filter(|_| limiter.check(&flooder, t(0)).is_err())
            .count();
        assert_eq!(refused, 48);
        assert_eq!(limiter.check(&other, t(0)), Ok(()));
        assert_eq!(
            limiter.check(&flooder, t(1)),
            Err(10),
            "Retry-After rounds up"
        );
        assert_eq!(
            limiter.check(&flooder, t(10_000)),
            Ok(()),
            "a later moment is served"
        );
    }

    #[test]
    fn s8_memory_is_bounded_and_idle_keys_go_first() {
        let limiter = Limiter::new(Rate::new(1, 1000), 10);
        for i in 0..10u32 {
            assert_eq!(limiter.check(&i, t(0)), Ok(()));
        }
        assert_eq!(limiter.len(), 10);
        // Later, every old key is idle (full bucket): they are forgotten, nothing is lost.
        assert_eq!(limiter.check(&100, t(5_000)), Ok(()));
        assert_eq!(limiter.len(), 1);
        // Many keys busy at once: the map never grows past its bound.
        for i in 200..10_000u32 {
            let _ = limiter.check(&i, t(6_000));
            assert!(limiter.len() <= 10);
        }
    }

    #[test]
    fn s8_ipv6_addresses_count_by_their_64_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b));
        assert_ne!(ip_key(a), ip_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(ip_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}
