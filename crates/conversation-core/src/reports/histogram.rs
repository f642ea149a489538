//! The sparse histogram of durations kept by daily rollups, so that medians and percentiles over
//! any period are merged from buckets instead of read from every fact. A value below
//! [`EXACT_BELOW`] seconds is its own bucket (exact); above, a bucket keeps four significant
//! digits (its lower bound), so a percentile read from it is at most 0.1 % below the true value.

/// Values below this many seconds (2 h 46 min) are kept exactly.
pub const EXACT_BELOW: u64 = 10_000;

/// The bucket of a value: the value itself below [`EXACT_BELOW`], else the value with all but
/// its four leading digits set to zero (the bucket's lower bound).
#[must_use]
pub const fn bucket(value: u64) -> u64 {
    if value < EXACT_BELOW {
        return value;
    }
    let mut scale = 1;
    while value / scale >= EXACT_BELOW {
        scale *= 10;
    }
    value / scale * scale
}

/// The nearest-rank percentile (`percent` in 1..=100) of a histogram given as `(bucket, count)`
/// pairs in any order: the smallest bucket at which the running count reaches
/// `ceil(percent / 100 * total)`. `None` for an empty histogram.
#[must_use]
pub fn percentile(buckets: &[(u64, u64)], percent: u64) -> Option<u64> {
    let total: u64 = buckets.iter().map(|(_, count)| count).sum();
    if total == 0 {
        return None;
    }
    let rank = (total * percent).div_ceil(100).max(1);
    let mut sorted = buckets.to_vec();
    sorted.sort_unstable();
    let mut seen = 0;
    for (bucket, count) in sorted {
        seen += count;
        if seen >= rank {
            return Some(bucket);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p1_buckets_are_exact_below_ten_thousand_and_four_digits_above() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(9_999), 9_999);
        assert_eq!(bucket(10_000), 10_000);
        assert_eq!(bucket(10_009), 10_000);
        assert_eq!(bucket(123_456), 123_400);
        assert_eq!(bucket(u64::MAX), 18_440_000_000_000_000_000);
    }

    #[test]
    fn p1_nearest_rank_percentiles() {
        let values = [(1, 1), (2, 1), (3, 1), (4, 1)];
        assert_eq!(percentile(&values, 50), Some(2));
        assert_eq!(percentile(&values, 90), Some(4));
        assert_eq!(percentile(&[(7, 3)], 50), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }
}
