//! B2, inbox lists: one account bulk-seeded ([`crate::seed`]) with `conversations` conversations
//! and `messages` messages; then, for every C9 filter (`all`, `mine`, `unassigned`, `queue`,
//! `awaiting_reply`, `resolved`) in turn, `clients` concurrent clients signed in as the owner page
//! through it with the `next` cursor over HTTP (`GET /api/v1/conversations`, 25 rows and the
//! total), starting again from the top at the end, for `duration`. Baseline, in the same run and
//! on the same database: the raw indexed query for the same page from the same number of
//! connections: the 26 rows (id, key, state) read by index range in list order, one range per
//! queue or status where the list has several, without the total.
//!
//! Checked per filter: the API's total equals a direct `COUNT(*)` of the same predicate, and its
//! first page is the raw query's first page.

use std::sync::Arc;
use std::time::{Duration, Instant};

use inbox_store::sql::{Arg, Db};
use serde_json::Value;
use uuid::Uuid;

use crate::report::{Check, Outcome};
use crate::seed::{self, Seeded};
use crate::server::{Server, sign_in};
use crate::stats::{Samples, Summary};
use crate::target::{StoreKind, Target, close, scalar};
use crate::{BenchResult, Options, fixture};

/// Sizes of B2.
#[derive(Clone, Copy, Debug)]
pub struct B2Options {
    /// Conversations seeded.
    pub conversations: usize,
    /// Messages seeded (spread evenly over the conversations).
    pub messages: usize,
    /// Concurrent clients (and baseline connections).
    pub clients: usize,
    /// How long each filter is paged, per phase.
    pub duration: Duration,
}

const PAGE: usize = 25;
const FILTERS: [&str; 6] = [
    "all",
    "mine",
    "unassigned",
    "queue",
    "awaiting_reply",
    "resolved",
];

/// A list as raw SQL: branches (a condition and its extra arguments, from `$4`), the sort key
/// and its direction.
struct RawList {
    branches: Vec<(String, Vec<Arg>)>,
    key: &'static str,
    ascending: bool,
    count: String,
}

fn raw_list(filter: &str, seeded: &Seeded) -> RawList {
    let open = "status = 'open'";
    let queue_branches = || {
        seeded
            .queues
            .iter()
            .map(|q| (format!("{open} AND queue_id = $4"), vec![Arg::from(*q)]))
            .collect()
    };
    let queue_list = (0..seeded.queues.len())
        .map(|i| format!("${}", i + 2))
        .collect::<Vec<_>>()
        .join(", ");
    let (branches, key, ascending, count) = match filter {
        "mine" => (
            vec![(
                format!("{open} AND assignee_id = $4"),
                vec![Arg::from(seeded.owner)],
            )],
            "activity_at",
            false,
            format!("{open} AND assignee_id = $2"),
        ),
        "unassigned" => (
            vec![(format!("{open} AND assignee_id IS NULL"), vec![])],
            "activity_at",
            false,
            format!("{open} AND assignee_id IS NULL"),
        ),
        "queue" => (
            queue_branches(),
            "activity_at",
            false,
            format!("{open} AND queue_id IN ({queue_list})"),
        ),
        "awaiting_reply" => (
            vec![(format!("{open} AND waiting_since IS NOT NULL"), vec![])],
            "waiting_since",
            true,
            format!("{open} AND waiting_since IS NOT NULL"),
        ),
        "resolved" => (
            vec![
                ("status = 'resolved'".to_owned(), vec![]),
                ("status = 'dropped'".to_owned(), vec![]),
            ],
            "activity_at",
            false,
            "status IN ('resolved', 'dropped')".to_owned(),
        ),
        _ => (
            vec![(open.to_owned(), vec![])],
            "activity_at",
            false,
            open.to_owned(),
        ),
    };
    RawList {
        branches,
        key,
        ascending,
        count,
    }
}

impl RawList {
    /// The statement of one page: `$1` account, `$2`/`$3` the cursor's key and id.
    fn page(&self) -> (String, Vec<Vec<Arg>>) {
        let (cmp, dir) = if self.ascending {
            (">", "ASC")
        } else {
            ("<", "DESC")
        };
        let key = self.key;
        let arms: Vec<String> = self
            .branches
            .iter()
            .enumerate()
            .map(|(i, (cond, args))| {
                // Each branch's extra arguments are numbered from $4 in its own text; renumber
                // them after the previous branches'.
                let mut cond = cond.clone();
                let offset: usize = self.branches[..i].iter().map(|(_, a)| a.len()).sum();
                for n in (0..args.len()).rev() {
                    cond = cond.replace(&format!("${}", 4 + n), &format!("${}", 4 + offset + n));
                }
                format!(
                    "SELECT * FROM (SELECT id, {key} AS k, state FROM conversations WHERE account_id = $1 AND {cond} \
                     AND ({key}, id) {cmp} ($2, $3) ORDER BY {key} {dir}, id {dir} LIMIT {}) AS b{i}",
                    PAGE + 1
                )
            })
            .collect();
        let sql = format!(
            "SELECT id, k, state FROM ({}) AS u ORDER BY k {dir}, id {dir} LIMIT {}",
            arms.join(" UNION ALL "),
            PAGE + 1
        );
        (sql, self.branches.iter().map(|(_, a)| a.clone()).collect())
    }

    fn start(&self) -> (i64, Uuid) {
        if self.ascending {
            (i64::MIN, Uuid::nil())
        } else {
            (i64::MAX, Uuid::max())
        }
    }
}

/// Runs B2 on one store: one outcome per filter.
///
/// # Errors
/// When seeding or a request fails.
pub async fn run(options: &Options, kind: StoreKind) -> BenchResult<Vec<Outcome>> {
    let b2 = options.b2;
    let target = Target::fresh(
        kind,
        &options.work_dir,
        options.postgres_url.as_deref(),
        "b2",
        options.wipe_postgres,
    )
    .await?;
    let store = target.open(u32::try_from(b2.clients)?).await?;
    let seeded = seed::seed(
        &fixture::app(store.clone()),
        store.db(),
        &options.run_id,
        b2.conversations,
        b2.messages,
        options.progress,
    )
    .await?;
    let server = Server::start(
        &options.server_mode(),
        &target,
        &seeded.owner_email,
        u32::try_from(b2.clients.max(4))?,
        &options.work_dir.join(format!("b2-{}.log", kind.name())),
    )
    .await?;
    let token = sign_in(&server.base, &seeded.owner_email).await?;
    let mut outcomes = Vec::new();
    for filter in FILTERS {
        let raw = raw_list(filter, &seeded);
        let (api, first_api, total, errors) = api_pages(&server.base, &token, filter, b2).await?;
        let (baseline, first_raw) = raw_pages(store.db(), &raw, seeded.account, b2).await?;
        let mut count_args = vec![Arg::from(seeded.account)];
        match filter {
            "mine" => count_args.push(Arg::from(seeded.owner)),
            "queue" => count_args.extend(seeded.queues.iter().map(|q| Arg::from(*q))),
            _ => {}
        }
        let expected = scalar(
            store.db(),
            &format!(
                "SELECT COUNT(*) AS n FROM conversations WHERE account_id = $1 AND {}",
                raw.count
            ),
            &count_args,
        )
        .await?;
        let full = b2.conversations >= 1_000_000;
        outcomes.push(Outcome {
            scenario: "B2".into(),
            store: kind.name().into(),
            variant: format!("list {filter}"),
            unit: "ms p99".into(),
            value: api.p99_ms,
            baseline: Some(baseline.p99_ms),
            ratio: Some(baseline.p99_ms / api.p99_ms.max(f64::MIN_POSITIVE)),
            target: "p99 < 10 ms (1M conversations, 8 clients)".into(),
            met: full.then_some(api.p99_ms < 10.0),
            server: api,
            raw: Some(baseline),
            extra: vec![
                (
                    "pages/s".to_owned(),
                    format!("{:.0} (raw {:.0})", api.per_sec, baseline.per_sec),
                ),
                ("list total".to_owned(), total.to_string()),
                (
                    "seeded".to_owned(),
                    format!(
                        "{} conversations, {} messages in {:.0} s",
                        seeded.conversations, seeded.messages, seeded.seconds
                    ),
                ),
                ("errors".to_owned(), errors.to_string()),
            ],
            checks: vec![
                Check::new(
                    "total equals COUNT(*)",
                    i64::try_from(total)? == expected,
                    format!("API {total}, COUNT(*) {expected}"),
                ),
                Check::new(
                    "first page equals the raw query's",
                    first_api == first_raw,
                    format!("{} and {} rows", first_api.len(), first_raw.len()),
                ),
                Check::new("no request failed", errors == 0, format!("{errors} errors")),
            ],
        });
    }
    server.stop().await;
    close(&store).await;
    Ok(outcomes)
}

/// Pages through the list over HTTP: latencies, the first page's ids, the total, errors.
async fn api_pages(
    base: &str,
    token: &str,
    filter: &'static str,
    b2: B2Options,
) -> BenchResult<(Summary, Vec<Uuid>, u64, u64)> {
    let started = Instant::now();
    let deadline = started + b2.duration;
    let mut tasks = Vec::new();
    for _ in 0..b2.clients {
        let (base, token) = (base.to_owned(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut samples = Samples::new();
            let (mut cursor, mut first, mut total, mut errors) =
                (None::<String>, Vec::new(), 0, 0_u64);
            loop {
                let mut request = http
                    .get(format!("{base}/api/v1/conversations"))
                    .bearer_auth(&token)
                    .query(&[("filter", filter)]);
                if let Some(cursor) = &cursor {
                    request = request.query(&[("cursor", cursor)]);
                }
                let sent = Instant::now();
                let page: Option<Value> = match request.send().await {
                    Ok(response) if response.status().is_success() => response.json().await.ok(),
                    _ => None,
                };
                let Some(page) = page else {
                    errors += 1;
                    cursor = None;
                    if Instant::now() >= deadline {
                        break;
                    }
                    continue;
                };
                samples.push(sent.elapsed());
                if cursor.is_none() && first.is_empty() {
                    total = page["total"].as_u64().unwrap_or(0);
                    first = ids(&page["rows"]);
                }
                cursor = page["next"].as_str().map(str::to_owned);
                if Instant::now() >= deadline {
                    break;
                }
            }
            (samples, first, total, errors)
        }));
    }
    let (mut samples, mut first, mut total, mut errors) = (Samples::new(), Vec::new(), 0, 0);
    for task in tasks {
        let (s, f, t, e) = task.await?;
        samples.merge(s);
        if first.is_empty() {
            (first, total) = (f, t);
        }
        errors += e;
    }
    Ok((samples.summary(started.elapsed()), first, total, errors))
}

fn ids(rows: &Value) -> Vec<Uuid> {
    rows.as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|row| row["id"].as_str().and_then(|id| id.parse().ok()))
                .collect()
        })
        .unwrap_or_default()
}

/// Pages through the list with the raw query: latencies and the first page's ids.
async fn raw_pages(
    db: &Db,
    raw: &RawList,
    account: conversation_core::ids::AccountId,
    b2: B2Options,
) -> BenchResult<(Summary, Vec<Uuid>)> {
    let (sql, extra) = raw.page();
    let sql = Arc::new(sql);
    let extra: Arc<Vec<Arg>> = Arc::new(extra.into_iter().flatten().collect());
    let start = raw.start();
    let started = Instant::now();
    let deadline = started + b2.duration;
    let mut tasks = Vec::new();
    for _ in 0..b2.clients {
        let (db, sql, extra) = (db.clone(), Arc::clone(&sql), Arc::clone(&extra));
        tasks.push(tokio::spawn(async move {
            let mut samples = Samples::new();
            let (mut cursor, mut first) = (start, None::<Vec<Uuid>>);
            loop {
                let mut args = vec![Arg::from(account), Arg::from(cursor.0), Arg::from(cursor.1)];
                args.extend(extra.iter().cloned());
                let sent = Instant::now();
                let rows = db.fetch_all(&sql, &args).await?;
                samples.push(sent.elapsed());
                let page: Vec<(Uuid, i64)> = rows
                    .iter()
                    .take(PAGE)
                    .map(|row| Ok::<_, sqlx::Error>((row.uuid("id")?, row.int("k")?)))
                    .collect::<Result<_, _>>()?;
                if first.is_none() {
                    first = Some(page.iter().map(|(id, _)| *id).collect());
                }
                cursor = match page.last() {
                    Some((id, key)) if rows.len() > PAGE => (*key, *id),
                    _ => start,
                };
                if Instant::now() >= deadline {
                    break;
                }
            }
            Ok::<_, sqlx::Error>((samples, first.unwrap_or_default()))
        }));
    }
    let (mut samples, mut first) = (Samples::new(), Vec::new());
    for task in tasks {
        let (s, f) = task.await??;
        samples.merge(s);
        if first.is_empty() {
            first = f;
        }
    }
    Ok((samples.summary(started.elapsed()), first))
}
