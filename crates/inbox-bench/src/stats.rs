//! Latency samples and their percentiles. Samples are kept whole (microseconds as `u32`, four
//! bytes each): a run of a few million requests is a few megabytes, and exact percentiles need no
//! histogram crate.

use std::time::Duration;

use serde::Serialize;

/// Latency samples of one measured phase.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    micros: Vec<u32>,
}

impl Samples {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one latency.
    pub fn push(&mut self, latency: Duration) {
        self.micros
            .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
    }

    /// Adds one latency given in microseconds.
    pub fn push_micros(&mut self, micros: u64) {
        self.micros.push(u32::try_from(micros).unwrap_or(u32::MAX));
    }

    /// Takes in the samples of another set.
    pub fn merge(&mut self, other: Self) {
        self.micros.extend(other.micros);
    }

    /// How many samples.
    #[must_use]
    pub fn len(&self) -> usize {
        self.micros.len()
    }

    /// Whether there is none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.micros.is_empty()
    }

    /// Sorts the samples and sums them up over `elapsed` (for the rate).
    #[must_use]
    pub fn summary(mut self, elapsed: Duration) -> Summary {
        self.micros.sort_unstable();
        let count = self.micros.len();
        let at = |q: f64| -> f64 {
            if count == 0 {
                return 0.0;
            }
            // Nearest rank: the smallest sample with at least q of all samples at or below it.
            let rank = (q * count as f64).ceil().max(1.0) as usize;
            f64::from(self.micros[rank.min(count) - 1]) / 1000.0
        };
        let secs = elapsed.as_secs_f64();
        Summary {
            count: count as u64,
            per_sec: if secs > 0.0 { count as f64 / secs } else { 0.0 },
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// Throughput and latency percentiles of one phase.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Summary {
    /// Operations completed.
    pub count: u64,
    /// Operations per second over the phase.
    pub per_sec: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 90th percentile, milliseconds.
    pub p90_ms: f64,
    /// 99th percentile, milliseconds.
    pub p99_ms: f64,
    /// Slowest, milliseconds.
    pub max_ms: f64,
}

/// The resident memory of a process in megabytes (`VmRSS` of `/proc/<pid>/status`), when it can
/// be read (Linux).
#[must_use]
pub fn resident_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A small deterministic pseudo-random generator (SplitMix64) for seeding data and picking
/// targets; reproducible from its seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub const fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n` > 0).
    pub const fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut samples = Samples::new();
        for ms in 1..=100 {
            samples.push(Duration::from_millis(ms));
        }
        let summary = samples.summary(Duration::from_secs(2));
        assert_eq!(summary.count, 100);
        assert!((summary.per_sec - 50.0).abs() < 1e-9);
        assert!((summary.p50_ms - 50.0).abs() < 1e-9);
        assert!((summary.p99_ms - 99.0).abs() < 1e-9);
        assert!((summary.max_ms - 100.0).abs() < 1e-9);
    }

    #[test]
    fn empty_samples_sum_up_to_zero() {
        let summary = Samples::new().summary(Duration::from_secs(1));
        assert_eq!(summary, Summary::default());
    }
}
