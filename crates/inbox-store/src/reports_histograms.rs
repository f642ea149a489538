//! P1: the monthly histograms (`report_histograms_monthly`, migration 0013): a month's sparse
//! histogram of a metric and combination of inbox, queue and agent in ONE row, its `counts`
//! written as `bucket:n` pairs joined by `,`. The catch-up merges a chunk's additions into the
//! rows it touches, in its own transaction (the account's cursor lock makes that
//! read-modify-write safe); a report by month reads one row per month and combination instead
//! of one per bucket.

use std::collections::{BTreeMap, BTreeSet};

use conversation_core::ids::AccountId;
use conversation_core::ports::StoreError;
use conversation_core::reports::Metric;
use uuid::Uuid;

use crate::error::{OrStoreError, StoreResult};
use crate::sql::{Arg, Tx};

/// The key of a monthly histogram: month, metric, inbox, queue, agent.
pub type MonthKey = (i64, &'static str, Uuid, Uuid, Uuid);

/// A sparse histogram: bucket to count.
pub type Counts = BTreeMap<u64, u64>;

fn bad(text: &str) -> StoreError {
    StoreError::Internal(format!("a monthly histogram is not `bucket:n,...`: {text:?}").into())
}

/// Adds the pairs of a stored `counts` text to `into`.
///
/// # Errors
/// A text that is not `bucket:n` pairs joined by `,`.
pub fn add_counts(text: &str, into: &mut Counts) -> StoreResult<()> {
    for pair in text.split(',').filter(|pair| !pair.is_empty()) {
        let (bucket, n) = pair.split_once(':').ok_or_else(|| bad(text))?;
        let bucket: u64 = bucket.trim().parse().map_err(|_| bad(text))?;
        let n: u64 = n.trim().parse().map_err(|_| bad(text))?;
        *into.entry(bucket).or_default() += n;
    }
    Ok(())
}

/// The stored text of a histogram, by bucket.
#[must_use]
pub fn counts_text(counts: &Counts) -> String {
    counts
        .iter()
        .map(|(bucket, n)| format!("{bucket}:{n}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Merges `additions` into the stored monthly histograms of `account`, in the catch-up's
/// transaction.
pub async fn write_monthly_histograms(
    tx: &mut Tx,
    account: AccountId,
    mut additions: BTreeMap<MonthKey, Counts>,
) -> StoreResult<()> {
    if additions.is_empty() {
        return Ok(());
    }
    let months: BTreeSet<i64> = additions.keys().map(|key| key.0).collect();
    let marks: Vec<String> = (2..months.len() + 2).map(|n| format!("${n}")).collect();
    let mut bound = vec![Arg::from(account)];
    bound.extend(months.iter().map(|month| Arg::from(*month)));
    let rows = tx
        .fetch_all(
            &format!(
                "SELECT month, metric, inbox_id, queue_id, agent_id, counts \
                 FROM report_histograms_monthly WHERE account_id = $1 AND month IN ({})",
                marks.join(", ")
            ),
            &bound,
        )
        .await
        .store()?;
    for row in rows {
        let name = row.text("metric").store()?;
        let Some(metric) = Metric::parse(&name).map(Metric::as_str) else {
            continue;
        };
        let key = (
            row.int("month").store()?,
            metric,
            row.uuid("inbox_id").store()?,
            row.uuid("queue_id").store()?,
            row.uuid("agent_id").store()?,
        );
        if let Some(counts) = additions.get_mut(&key) {
            add_counts(&row.text("counts").store()?, counts)?;
        }
    }
    let rows: Vec<Vec<Arg>> = additions
        .into_iter()
        .map(|((month, metric, inbox, queue, agent), counts)| {
            vec![
                Arg::from(account),
                Arg::from(month),
                Arg::from(metric),
                Arg::from(inbox),
                Arg::from(queue),
                Arg::from(agent),
                Arg::from(counts_text(&counts)),
            ]
        })
        .collect();
    crate::reports::insert_many(
        tx,
        "report_histograms_monthly (account_id, month, metric, inbox_id, queue_id, agent_id, \
         counts)",
        "ON CONFLICT (account_id, month, metric, inbox_id, queue_id, agent_id) \
         DO UPDATE SET counts = excluded.counts",
        7,
        rows,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p1_monthly_histogram_text_round_trips_and_merges() {
        let mut counts = Counts::new();
        add_counts("300:2,60:1", &mut counts).unwrap();
        add_counts("60:3", &mut counts).unwrap();
        assert_eq!(counts_text(&counts), "60:4,300:2");
        assert!(add_counts("60-1", &mut counts).is_err());
        assert_eq!(counts_text(&Counts::new()), "");
    }
}
