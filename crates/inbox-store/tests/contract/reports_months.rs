//! `ReportStore` (P1), migration 0013: the monthly rollups and histograms (one row per month and
//! combination, its histogram as `bucket:n` pairs) always equal the sum
//! of the daily ones (the catch-up writes both in one transaction), an upgraded database gets
//! them from the migration's backfill, and a report by month, which reads whole months from the
//! monthly tables and the partial months at its edges from the daily ones, picks the same
//! nearest-rank medians and 90th percentiles as the core's `histogram::percentile` over
//! every fact, per cell and over the whole range. Random data, a few seeds, both stores.

use std::collections::BTreeMap;

use conversation_core::ids::{AgentId, InboxId, QueueId, WrapUpReasonId};
use conversation_core::ports::{
    Breakdown, ConversationReportQuery, Period, ReportStore, SpreadCell,
};
use conversation_core::reports::{Metric, day_number, histogram};
use inbox_store::sql::{Dialect, Row};
use uuid::Uuid;

use crate::reports::{life_timed, log};
use crate::support::{Fixture, contract, exec, id, t};

/// A small deterministic generator (xorshift), so a failure can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// What was seeded: per (UTC day of the fact, agent) the values of two duration metrics.
#[derive(Default)]
struct Expected {
    time_to_close: Vec<(i64, Uuid, u64)>,
    first_response: Vec<(i64, Uuid, u64)>,
}

/// Seeds `conversations` random conversations over 150 days from `t(0)` in two logs, with a
/// catch-up after each (so the second adds to months the first wrote).
async fn seed(fx: &Fixture, seed: u64, conversations: usize) -> (Expected, [AgentId; 3]) {
    let mut rng = Rng(seed);
    let inbox = InboxId::from_uuid(id());
    let queues = [QueueId::from_uuid(id()), QueueId::from_uuid(id())];
    let agents = [
        AgentId::from_uuid(id()),
        AgentId::from_uuid(id()),
        AgentId::from_uuid(id()),
    ];
    let reasons = [
        WrapUpReasonId::from_uuid(id()),
        WrapUpReasonId::from_uuid(id()),
    ];
    let mut expected = Expected::default();
    let mut halves = [Vec::new(), Vec::new()];
    for n in 0..conversations {
        let at = i64::try_from(rng.below(150) * 86_400 + rng.below(86_400)).unwrap();
        let accept = 1 + i64::try_from(rng.below(100)).unwrap();
        let reply = accept + 1 + i64::try_from(rng.below(700)).unwrap();
        // Some times to close above 10 000 s, where a bucket keeps four digits.
        let close = reply + 1 + i64::try_from(rng.below(15_000)).unwrap();
        let agent = agents[usize::try_from(rng.below(3)).unwrap()];
        let queue = queues[usize::try_from(rng.below(2)).unwrap()];
        let reason = reasons[usize::try_from(rng.below(2)).unwrap()];
        expected.time_to_close.push((
            day_number(t(at + close)),
            agent.as_uuid(),
            u64::try_from(close).unwrap(),
        ));
        expected.first_response.push((
            day_number(t(at + reply)),
            agent.as_uuid(),
            u64::try_from(reply).unwrap(),
        ));
        halves[n % 2].push((
            at,
            life_timed(inbox, (queue, agent), reason, at, [accept, reply, close]),
        ));
    }
    for mut half in halves {
        // The log is in time order, as a real one.
        half.sort_by_key(|(at, _)| *at);
        let mut events: Vec<_> = half.into_iter().flat_map(|(_, events)| events).collect();
        events.sort_by_key(conversation_core::DomainEvent::at);
        log(fx, fx.account, events).await;
        fx.store.catch_up_reports(fx.account).await.unwrap();
    }
    (expected, agents)
}

type RollupRow = (i64, String, Uuid, Uuid, Uuid, Uuid, i64, i64);

fn rollup_row(row: &Row) -> RollupRow {
    (
        row.int("month").unwrap(),
        row.text("metric").unwrap(),
        row.uuid("inbox_id").unwrap(),
        row.uuid("queue_id").unwrap(),
        row.uuid("agent_id").unwrap(),
        row.uuid("reason_id").unwrap(),
        row.int("n").unwrap(),
        row.int("total").unwrap(),
    )
}

type BucketRow = (i64, String, Uuid, Uuid, Uuid, i64, i64);

fn bucket_row(row: &Row) -> BucketRow {
    (
        row.int("month").unwrap(),
        row.text("metric").unwrap(),
        row.uuid("inbox_id").unwrap(),
        row.uuid("queue_id").unwrap(),
        row.uuid("agent_id").unwrap(),
        row.int("bucket").unwrap(),
        row.int("n").unwrap(),
    )
}

const ROLLUP_COLUMNS: &str = "month, metric, inbox_id, queue_id, agent_id, reason_id";
const BUCKET_COLUMNS: &str = "month, metric, inbox_id, queue_id, agent_id, bucket";

/// The monthly tables as they are, in key order.
async fn monthly(fx: &Fixture) -> (Vec<RollupRow>, Vec<BucketRow>) {
    let db = fx.store.db();
    let rollups = db
        .fetch_all(
            &format!(
                "SELECT {ROLLUP_COLUMNS}, n, total FROM report_rollups_monthly \
                 WHERE account_id = $1 ORDER BY {ROLLUP_COLUMNS}"
            ),
            &[fx.account.into()],
        )
        .await
        .unwrap();
    let histograms = db
        .fetch_all(
            "SELECT month, metric, inbox_id, queue_id, agent_id, counts \
             FROM report_histograms_monthly WHERE account_id = $1",
            &[fx.account.into()],
        )
        .await
        .unwrap();
    // One row per month and combination, its histogram as `bucket:n` pairs.
    let mut buckets = Vec::new();
    for row in &histograms {
        let counts = row.text("counts").unwrap();
        for pair in counts.split(',') {
            let (bucket, n) = pair.split_once(':').unwrap();
            buckets.push((
                row.int("month").unwrap(),
                row.text("metric").unwrap(),
                row.uuid("inbox_id").unwrap(),
                row.uuid("queue_id").unwrap(),
                row.uuid("agent_id").unwrap(),
                bucket.parse().unwrap(),
                n.parse().unwrap(),
            ));
        }
    }
    buckets.sort();
    let mut rollups: Vec<RollupRow> = rollups.iter().map(rollup_row).collect();
    rollups.sort();
    (rollups, buckets)
}

/// The daily tables summed per month, in key order.
async fn daily_by_month(fx: &Fixture) -> (Vec<RollupRow>, Vec<BucketRow>) {
    let db = fx.store.db();
    let rollups = db
        .fetch_all(
            &format!(
                "SELECT {ROLLUP_COLUMNS}, CAST(SUM(n) AS BIGINT) AS n, \
                 CAST(SUM(total) AS BIGINT) AS total FROM report_rollups \
                 WHERE account_id = $1 GROUP BY {ROLLUP_COLUMNS} ORDER BY {ROLLUP_COLUMNS}"
            ),
            &[fx.account.into()],
        )
        .await
        .unwrap();
    let buckets = db
        .fetch_all(
            &format!(
                "SELECT {BUCKET_COLUMNS}, CAST(SUM(n) AS BIGINT) AS n FROM report_buckets \
                 WHERE account_id = $1 GROUP BY {BUCKET_COLUMNS} ORDER BY {BUCKET_COLUMNS}"
            ),
            &[fx.account.into()],
        )
        .await
        .unwrap();
    let mut rollups: Vec<RollupRow> = rollups.iter().map(rollup_row).collect();
    let mut buckets: Vec<BucketRow> = buckets.iter().map(bucket_row).collect();
    // Sorted here: the databases' text collations may differ from Rust's byte order.
    rollups.sort();
    buckets.sort();
    (rollups, buckets)
}

contract!(
    p1_monthly_rollups_equal_the_sum_of_the_daily_ones,
    |fx: Fixture| async move {
        for number in [0x5EED_0001, 0x5EED_0002] {
            seed(&fx, number, 150).await;
            let (rollups, buckets) = monthly(&fx).await;
            assert!(
                rollups.len() > 20 && buckets.len() > 100,
                "seeded enough rows"
            );
            assert_eq!(
                (rollups, buckets),
                daily_by_month(&fx).await,
                "seed {number:#x}"
            );
        }
    }
);

contract!(
    p1_the_migration_backfills_the_months_from_the_days,
    |fx: Fixture| async move {
        seed(&fx, 0x5EED_0003, 120).await;
        let before = monthly(&fx).await;
        let db = fx.store.db();
        for table in ["report_rollups_monthly", "report_histograms_monthly"] {
            exec(
                db,
                &format!("DELETE FROM {table} WHERE account_id = $1"),
                vec![fx.account.into()],
            )
            .await;
        }
        // The migration's own backfill statements, kept to this account (other tests share
        // the database).
        let migration = match db.dialect() {
            Dialect::Sqlite => include_str!("../../migrations/sqlite/0013_report_months.sql"),
            Dialect::Postgres => include_str!("../../migrations/postgres/0013_report_months.sql"),
        };
        let backfill = migration
            .split(';')
            .filter(|statement| statement.contains("INSERT INTO"))
            .map(|statement| {
                let statement = statement
                    .lines()
                    .filter(|line| !line.trim_start().starts_with("--"))
                    .collect::<Vec<_>>()
                    .join("\n");
                statement.replace("\nGROUP BY", "\nWHERE account_id = $1\nGROUP BY")
            })
            .collect::<Vec<_>>();
        assert_eq!(backfill.len(), 2, "two backfill statements");
        for statement in backfill {
            assert!(statement.contains("WHERE account_id = $1"));
            exec(db, &statement, vec![fx.account.into()]).await;
        }
        assert_eq!(monthly(&fx).await, before);
    }
);

/// The core's nearest-rank percentiles of the values' buckets.
fn spread(values: &[u64]) -> (Option<u64>, Option<u64>) {
    let buckets: Vec<(u64, u64)> = values.iter().map(|v| (histogram::bucket(*v), 1)).collect();
    (
        histogram::percentile(&buckets, 50),
        histogram::percentile(&buckets, 90),
    )
}

fn found(
    spreads: &[SpreadCell],
    period: i64,
    key: Option<Uuid>,
    metric: Metric,
) -> (Option<u64>, Option<u64>) {
    spreads
        .iter()
        .find(|s| s.period_start == period && s.key == key && s.metric == metric)
        .map_or((None, None), |s| (s.median, s.p90))
}

contract!(
    p1_percentiles_by_month_from_months_and_edge_days_equal_the_facts,
    |fx: Fixture| async move {
        let (expected, agents) = seed(&fx, 0x5EED_0004, 240).await;
        let base = day_number(t(0));
        // May to July are whole months. April 11 to August 19: the edge months are read from
        // their monthly rows minus the days outside (fewer than inside); April 26 to August 4:
        // the edge months' days inside are read from the daily rows.
        for (from_day, to_day, breakdown) in [
            (base + 10, base + 140, None),
            (base + 10, base + 140, Some(Breakdown::Agent)),
            (base + 25, base + 125, None),
            (base + 25, base + 125, Some(Breakdown::Agent)),
        ] {
            let report = fx
                .store
                .conversation_report(&ConversationReportQuery {
                    account: fx.account,
                    from_day,
                    to_day,
                    period: Period::Month,
                    inbox: None,
                    queue: None,
                    agent: None,
                    breakdown,
                })
                .await
                .unwrap();
            for (metric, facts) in [
                (Metric::TimeToClose, &expected.time_to_close),
                (Metric::FirstResponse, &expected.first_response),
            ] {
                let inside: Vec<&(i64, Uuid, u64)> = facts
                    .iter()
                    .filter(|(day, _, _)| (from_day..=to_day).contains(day))
                    .collect();
                let mut cells: BTreeMap<(i64, Option<Uuid>), Vec<u64>> = BTreeMap::new();
                for (day, agent, value) in &inside {
                    let key = breakdown.map(|_| *agent);
                    cells
                        .entry((Period::Month.start_of(*day), key))
                        .or_default()
                        .push(*value);
                }
                assert!(cells.len() >= 5, "every month has facts");
                for ((period, key), values) in &cells {
                    assert_eq!(
                        found(&report.spreads, *period, *key, metric),
                        spread(values),
                        "{metric:?} {period} {key:?}"
                    );
                    let count: u64 = report
                        .cells
                        .iter()
                        .filter(|c| {
                            c.period_start == *period && c.key == *key && c.metric == metric
                        })
                        .map(|c| c.count)
                        .sum();
                    assert_eq!(count, u64::try_from(values.len()).unwrap());
                }
                let all: Vec<u64> = inside.iter().map(|(_, _, v)| *v).collect();
                assert_eq!(
                    found(&report.total_spreads, from_day, None, metric),
                    spread(&all),
                    "{metric:?} total"
                );
            }
            // The agent filter reads the same months and edges.
            let one = fx
                .store
                .conversation_report(&ConversationReportQuery {
                    account: fx.account,
                    from_day,
                    to_day,
                    period: Period::Month,
                    inbox: None,
                    queue: None,
                    agent: Some(agents[0]),
                    breakdown: None,
                })
                .await
                .unwrap();
            let theirs: Vec<u64> = expected
                .time_to_close
                .iter()
                .filter(|(day, agent, _)| {
                    (from_day..=to_day).contains(day) && *agent == agents[0].as_uuid()
                })
                .map(|(_, _, v)| *v)
                .collect();
            assert_eq!(
                found(&one.total_spreads, from_day, None, Metric::TimeToClose),
                spread(&theirs)
            );
        }
    }
);
