//! Small shared formulas: the seconds between two times (never negative), the UTC day number
//! that rollups are keyed by, and the summary of a duration metric (count, average, median,
//! 90th percentile) merged from histograms.

use serde::{Deserialize, Serialize};

use super::histogram::percentile;
use crate::Timestamp;

/// Whole seconds from `from` to `to`, truncated; `0` when `to` is not after `from` (events of
/// one aggregate are in time order, so that only guards against a clock that stepped back).
#[must_use]
pub fn seconds_between(from: Timestamp, to: Timestamp) -> u64 {
    u64::try_from((to - from).num_seconds()).unwrap_or(0)
}

/// The UTC day of a time, as days since 1970-01-01 (negative before it).
#[must_use]
pub fn day_number(at: Timestamp) -> i64 {
    at.timestamp().div_euclid(86_400)
}

/// A duration metric over a set of facts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DurationSummary {
    /// How many facts.
    pub count: u64,
    /// Their sum, in seconds.
    pub sum: u64,
    /// `sum / count`, in seconds; `None` when there is none.
    pub avg: Option<f64>,
    /// Nearest-rank median, in seconds.
    pub median: Option<u64>,
    /// Nearest-rank 90th percentile, in seconds.
    pub p90: Option<u64>,
}

impl DurationSummary {
    /// The summary of `count` facts summing to `sum` with histogram `buckets`.
    #[must_use]
    pub fn of(count: u64, sum: u64, buckets: &[(u64, u64)]) -> Self {
        Self::with(count, sum, percentile(buckets, 50), percentile(buckets, 90))
    }

    /// The summary of `count` facts summing to `sum` whose median and 90th percentile were
    /// picked elsewhere (by the store, from the same histogram).
    #[must_use]
    pub fn with(count: u64, sum: u64, median: Option<u64>, p90: Option<u64>) -> Self {
        #[expect(
            clippy::cast_precision_loss,
            reason = "an average is a float; counts and sums stay far below 2^52"
        )]
        let avg = (count > 0).then(|| sum as f64 / count as f64);
        Self {
            count,
            sum,
            avg,
            median,
            p90,
        }
    }
}
