//! B6, reports (P1, `docs/reports.md`): one account bulk-seeded with `conversations`
//! conversations spread evenly over the last 365 days, five events each (started, the contact's
//! message, an agent accepting, their reply, the resolution with a wrap-up reason), written
//! straight into the event log in multi-row inserts as an import would. The catch-up then folds
//! the whole log into the rollups (timed, reported apart). Measured: `requests` sequential
//! conversation reports over the whole year, by month and per agent, through the use case
//! (catch-up included, which finds nothing new); baseline, in the same run: the raw aggregate
//! SQL over the same rollup rows (`SUM` per month, agent and metric), as many times.
//!
//! Checked: the report's totals equal what was seeded (conversations opened and resolved, the
//! sum of the times to close, one handle time per conversation), never speed.

use std::time::Instant;

use chrono::NaiveDate;
use conversation_core::DomainEvent;
use conversation_core::actor::Actor;
use conversation_core::channel::ChannelKind;
use conversation_core::conversation::{
    ConversationEvent, ConversationEventKind as Kind, ReplyKind,
};
use conversation_core::ids::{
    AccountId, AgentId, ContactId, ConversationId, InboxId, MessageId, QueueId, WrapUpReasonId,
};
use conversation_core::ports::{Period, ReportStore, day_of};
use inbox_app::Caller;
use inbox_app::reports::{ConversationReportRequest, ReportRange};
use inbox_store::sql::{Arg, Db};
use uuid::Uuid;

use crate::report::{Check, Outcome};
use crate::stats::{Rng, Samples};
use crate::target::{StoreKind, Target, close};
use crate::{BenchResult, Options, fixture};

/// Sizes of B6.
#[derive(Clone, Copy, Debug)]
pub struct B6Options {
    /// Conversations seeded over the year.
    pub conversations: usize,
    /// Reports measured (and baseline queries).
    pub requests: usize,
}

/// Events per multi-row insert.
const ROWS: usize = 500;

/// What was seeded, for the checks.
struct Seeded {
    events: u64,
    time_to_close_sum: u64,
}

fn event(
    conversation: ConversationId,
    at: chrono::DateTime<chrono::Utc>,
    actor: Actor,
    kind: Kind,
) -> DomainEvent {
    DomainEvent::Conversation(ConversationEvent {
        conversation,
        at,
        actor,
        kind,
    })
}

/// Writes the year of events into the log, in order, and moves the account's event counter.
async fn seed_log(
    db: &Db,
    account: AccountId,
    inbox: InboxId,
    conversations: usize,
    now: chrono::DateTime<chrono::Utc>,
) -> BenchResult<Seeded> {
    let mut rng = Rng::new(0x005E_EDB6);
    let agents: Vec<AgentId> = (0..8).map(|_| AgentId::from_uuid(Uuid::new_v4())).collect();
    let queues: Vec<QueueId> = (0..3).map(|_| QueueId::from_uuid(Uuid::new_v4())).collect();
    let reasons: Vec<WrapUpReasonId> = (0..4)
        .map(|_| WrapUpReasonId::from_uuid(Uuid::new_v4()))
        .collect();
    let start = now - chrono::Duration::days(365);
    let step = 365.0 * 86_400.0 / conversations.max(1) as f64;
    let row = db
        .fetch_optional(
            "SELECT event_seq FROM accounts WHERE id = $1",
            &[account.into()],
        )
        .await?
        .ok_or("no account")?;
    let mut seq = row.int("event_seq")?;
    let mut seeded = Seeded {
        events: 0,
        time_to_close_sum: 0,
    };
    let mut batch: Vec<Vec<Arg>> = Vec::new();
    for n in 0..conversations {
        #[expect(clippy::cast_possible_truncation, reason = "seconds within a year")]
        let at = start + chrono::Duration::seconds((n as f64 * step) as i64);
        let conversation = ConversationId::from_uuid(Uuid::new_v4());
        let contact = ContactId::from_uuid(Uuid::new_v4());
        let agent = agents[usize::try_from(rng.below(8))?];
        let accept = 1 + i64::try_from(rng.below(120))?;
        let reply = accept + 1 + i64::try_from(rng.below(600))?;
        let close = reply + 1 + i64::try_from(rng.below(20_000))?;
        seeded.time_to_close_sum += u64::try_from(close)?;
        let secs = |s: i64| at + chrono::Duration::seconds(s);
        let events = [
            event(
                conversation,
                at,
                Actor::Contact(contact),
                Kind::Started {
                    account,
                    inbox,
                    channel: ChannelKind::WebChat,
                    contact,
                    queue: Some(queues[usize::try_from(rng.below(3))?]),
                    bot_flow: None,
                },
            ),
            event(
                conversation,
                at,
                Actor::Contact(contact),
                Kind::InboundReceived {
                    message: MessageId::from_uuid(Uuid::new_v4()),
                    dialog: None,
                },
            ),
            event(
                conversation,
                secs(accept),
                Actor::Agent(agent),
                Kind::OfferAccepted { agent },
            ),
            event(
                conversation,
                secs(reply),
                Actor::Agent(agent),
                Kind::ReplySent {
                    message: MessageId::from_uuid(Uuid::new_v4()),
                    kind: ReplyKind::FreeForm,
                    dialog: None,
                },
            ),
            event(
                conversation,
                secs(close),
                Actor::Agent(agent),
                Kind::Resolved {
                    wrap_up: Some(reasons[usize::try_from(rng.below(4))?]),
                    released: Some(agent),
                },
            ),
        ];
        for event in events {
            seq += 1;
            batch.push(vec![
                account.into(),
                seq.into(),
                "conversation".into(),
                conversation.into(),
                event.at().into(),
                serde_json::to_string(&event)?.into(),
            ]);
            seeded.events += 1;
        }
        if batch.len() >= ROWS {
            insert(db, &std::mem::take(&mut batch)).await?;
        }
    }
    insert(db, &batch).await?;
    db.execute(
        "UPDATE accounts SET event_seq = $2 WHERE id = $1",
        &[account.into(), seq.into()],
    )
    .await?;
    Ok(seeded)
}

async fn insert(db: &Db, rows: &[Vec<Arg>]) -> BenchResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..rows.len())
        .map(|r| {
            let cells: Vec<String> = (1..=6).map(|c| format!("${}", r * 6 + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO events (account_id, seq, aggregate_type, aggregate_id, at, payload) VALUES {}",
        values.join(", ")
    );
    let args: Vec<Arg> = rows.iter().flatten().cloned().collect();
    db.execute(&sql, &args).await?;
    Ok(())
}

/// Runs B6 on one store.
///
/// # Errors
/// When the scenario cannot be set up or a request fails.
pub async fn run(options: &Options, kind: StoreKind) -> BenchResult<Outcome> {
    let b6 = options.b6;
    let target = Target::fresh(
        kind,
        &options.work_dir,
        options.postgres_url.as_deref(),
        "b6",
        options.wipe_postgres,
    )
    .await?;
    let store = target.open(4).await?;
    let app = fixture::app(store.clone());
    let account = fixture::accounts(
        &app,
        &format!("b6-{}-{}", options.run_id, kind.name()),
        1,
        0,
    )
    .await?
    .pop()
    .ok_or("no account")?;
    let now = app.now();
    let seeding = Instant::now();
    let seeded = seed_log(
        store.db(),
        account.account,
        account.inbox.id,
        b6.conversations,
        now,
    )
    .await?;
    let seed_secs = seeding.elapsed().as_secs_f64();
    let folding = Instant::now();
    let folded = store.catch_up_reports(account.account).await?;
    let fold_secs = folding.elapsed().as_secs_f64();

    let today = now.date_naive();
    let from: NaiveDate = today - chrono::Duration::days(366);
    let request = ConversationReportRequest {
        range: ReportRange {
            from,
            to: today + chrono::Duration::days(1),
            period: Period::Month,
        },
        inbox: None,
        queue: None,
        agent: None,
        breakdown: Some(conversation_core::ports::Breakdown::Agent),
    };
    let caller = Caller::Integration {
        account: account.account,
    };
    let mut samples = Samples::new();
    let started = Instant::now();
    let mut last = None;
    for _ in 0..b6.requests.max(1) {
        let sent = Instant::now();
        last = Some(app.conversation_report(&caller, &request).await?);
        samples.push(sent.elapsed());
    }
    let api = samples.summary(started.elapsed());
    let report = last.ok_or("no report")?;

    let mut raw = Samples::new();
    let started = Instant::now();
    let args = [
        Arg::from(account.account),
        Arg::from(day_of(from)),
        Arg::from(day_of(today) + 1),
    ];
    let mut raw_rows = 0;
    for _ in 0..b6.requests.max(1) {
        let sent = Instant::now();
        raw_rows = store
            .db()
            .fetch_all(
                "SELECT month, agent_id, metric, CAST(SUM(n) AS BIGINT) AS n, CAST(SUM(total) AS BIGINT) AS total \
                 FROM report_rollups WHERE account_id = $1 AND day >= $2 AND day <= $3 \
                 GROUP BY month, agent_id, metric",
                &args,
            )
            .await?
            .len();
        raw.push(sent.elapsed());
    }
    let baseline = raw.summary(started.elapsed());
    close(&store).await;

    let n = u64::try_from(b6.conversations)?;
    let total = &report.total;
    let full = b6.conversations >= 500_000;
    Ok(Outcome {
        scenario: "B6".into(),
        store: kind.name().into(),
        variant: "report: a year by month and agent".into(),
        unit: "ms p99".into(),
        value: api.p99_ms,
        baseline: Some(baseline.p99_ms),
        ratio: Some(baseline.p99_ms / api.p99_ms.max(f64::MIN_POSITIVE)),
        target: "well under 1 s over a year of a busy account (P1)".into(),
        met: full.then_some(api.p99_ms < 1_000.0),
        server: api,
        raw: Some(baseline),
        extra: vec![
            (
                "seeded".to_owned(),
                format!(
                    "{} conversations, {} events in {seed_secs:.1} s",
                    b6.conversations, seeded.events
                ),
            ),
            (
                "catch-up".to_owned(),
                format!("{folded} events folded in {fold_secs:.1} s"),
            ),
            (
                "rows".to_owned(),
                format!("{} report rows, {raw_rows} raw rows", report.rows.len()),
            ),
        ],
        checks: vec![
            Check::new(
                "every event folded once",
                folded == seeded.events,
                format!("{folded} of {}", seeded.events),
            ),
            Check::new(
                "opened equals the seeded conversations",
                total.opened == n,
                format!("{} of {n}", total.opened),
            ),
            Check::new(
                "resolved equals the seeded conversations",
                total.resolved == n,
                format!("{} of {n}", total.resolved),
            ),
            Check::new(
                "time to close sums what was seeded",
                total.time_to_close.sum == seeded.time_to_close_sum,
                format!(
                    "{} s of {} s",
                    total.time_to_close.sum, seeded.time_to_close_sum
                ),
            ),
            Check::new(
                "one handle time per conversation",
                total.handle_time.count == n,
                format!("{} of {n}", total.handle_time.count),
            ),
        ],
    })
}
