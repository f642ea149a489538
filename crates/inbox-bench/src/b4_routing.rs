//! B4, routing burst: `conversations` new conversations arrive at once into one queue of
//! `agents` available agents of capacity `capacity` (direct delivery, least loaded). Each
//! arrival runs the application's own inbound use case (`receive_inbound`: start the
//! conversation, then route it), from `clients` concurrent tasks in this process against the
//! scenario's database, which is what a channel webhook or the widget runs on the server. No HTTP
//! is in the way: B1 measures that; B4 measures routing and the R2 capacity ledger under a burst.
//!
//! Measured: the time from the first arrival until every free slot is assigned (target: 2 s),
//! and each arrival's latency. Baseline, in the same run and on the same database: the same
//! number of concurrent connections inserting `agents x capacity` rows of a conversation's
//! size, one per transaction (how fast the database alone could write that many rows).
//!
//! Checked: no agent's load ever above its capacity (a watcher samples the loads during the
//! burst, and the final loads equal the assigned conversations), every slot filled, and the rest
//! waiting in the queue in arrival order (R5: oldest first).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use conversation_core::channel::ChannelKind;
use conversation_core::entities::{Contact, Inbox, InboxSettings, RoutingStrategy};
use conversation_core::ids::{AccountId, ContactId, InboxId, QueueId};
use conversation_core::message::MessageKind;
use inbox_app::directory::{NewAgent, NewQueue, SetAvailability};
use inbox_app::{App, Inbound};
use inbox_store::sql::{Arg, Db};

use crate::fixture;
use crate::report::{Check, Outcome};
use crate::server::PASSWORD;
use crate::stats::{Samples, Summary};
use crate::target::{StoreKind, Target, close, scalar};
use crate::{BenchResult, Options};

/// Sizes of B4.
#[derive(Clone, Copy, Debug)]
pub struct B4Options {
    /// Conversations arriving in the burst.
    pub conversations: usize,
    /// Agents of the queue, all available.
    pub agents: usize,
    /// Each agent's capacity.
    pub capacity: u32,
    /// Concurrent arrivals.
    pub clients: usize,
}

/// The account, queue and contacts of the burst.
struct Setup {
    account: AccountId,
    queue: QueueId,
    inbox: Inbox,
    contacts: Vec<ContactId>,
}

/// Runs B4 on one store.
///
/// # Errors
/// When the set-up fails (refused arrivals are counted, not fatal).
pub async fn run(options: &Options, kind: StoreKind) -> BenchResult<Outcome> {
    let b4 = options.b4;
    let target = Target::fresh(
        kind,
        &options.work_dir,
        options.postgres_url.as_deref(),
        "b4",
        options.wipe_postgres,
    )
    .await?;
    let connections = u32::try_from(b4.clients.clamp(4, 32))?;
    let store = target.open(connections).await?;
    let app = fixture::app(store.clone());
    let setup = set_up(&app, &format!("b4-{}", options.run_id), b4).await?;
    let slots = b4.agents * usize::try_from(b4.capacity)?;

    let raw = raw_inserts(store.db(), slots, b4.clients).await?;

    // The watcher: the highest load of any agent of the account, sampled while the burst runs.
    let done = Arc::new(AtomicBool::new(false));
    let highest = Arc::new(AtomicI64::new(0));
    let watcher = {
        let (db, done, highest) = (store.db().clone(), Arc::clone(&done), Arc::clone(&highest));
        let account = setup.account;
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if let Ok(load) = scalar(
                    &db,
                    "SELECT COALESCE(MAX(load), 0) AS n FROM agents WHERE account_id = $1",
                    &[Arg::from(account)],
                )
                .await
                {
                    highest.fetch_max(load, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };

    let (arrivals, filled_after, errors, first_error) = burst(&app, &setup, b4, slots).await?;
    done.store(true, Ordering::Relaxed);
    watcher.await?;

    let db = store.db();
    let account = Arg::from(setup.account);
    let assigned = scalar(
        db,
        "SELECT COUNT(*) AS n FROM conversations WHERE account_id = $1 AND status = 'open' \
         AND assignee_id IS NOT NULL",
        std::slice::from_ref(&account),
    )
    .await?;
    let load_total = scalar(
        db,
        "SELECT CAST(COALESCE(SUM(load), 0) AS BIGINT) AS n FROM agents WHERE account_id = $1",
        std::slice::from_ref(&account),
    )
    .await?;
    let final_highest = scalar(
        db,
        "SELECT COALESCE(MAX(load), 0) AS n FROM agents WHERE account_id = $1",
        std::slice::from_ref(&account),
    )
    .await?;
    // R5: how many of the first `slots` arrivals (by start time) got a slot. Reported, not
    // checked: two arrivals started within the same instant may commit in either order.
    let first_served = scalar(
        db,
        "SELECT COUNT(*) AS n FROM (SELECT assignee_id FROM conversations WHERE account_id = $1 \
         ORDER BY created_at, id LIMIT $2) AS first WHERE assignee_id IS NOT NULL",
        &[account.clone(), Arg::from(i64::try_from(slots)?)],
    )
    .await?;
    let waiting = app
        .store()
        .waiting(setup.account, setup.queue, u32::MAX)
        .await?;
    close(&store).await;

    let highest = highest.load(Ordering::Relaxed).max(final_highest);
    let expected_assigned = slots.min(b4.conversations);
    let expected_waiting = b4.conversations.saturating_sub(slots);
    let in_order = waiting
        .windows(2)
        .all(|pair| waiting_since(&pair[0]) <= waiting_since(&pair[1]));
    let filled_secs = filled_after.map(|d| d.as_secs_f64());
    let raw_secs = raw.count as f64 / raw.per_sec.max(f64::MIN_POSITIVE);
    let value = filled_secs.unwrap_or(f64::INFINITY);
    let ratio = filled_secs.map(|secs| raw_secs / secs.max(f64::MIN_POSITIVE));
    Ok(Outcome {
        scenario: "B4".into(),
        store: kind.name().into(),
        variant: format!(
            "{} arrivals, {} agents x {}",
            b4.conversations, b4.agents, b4.capacity
        ),
        unit: "s to fill every slot".into(),
        value,
        baseline: Some(raw_secs),
        ratio,
        target:
            "every free slot filled within 2 s, capacity never exceeded, the rest waiting in order"
                .into(),
        met: Some(
            filled_secs.is_some_and(|secs| secs <= 2.0)
                && highest <= i64::from(b4.capacity)
                && in_order
                && errors == 0,
        ),
        server: arrivals,
        raw: Some(raw),
        extra: {
            let mut extra = vec![
                ("clients".to_owned(), b4.clients.to_string()),
                ("slots".to_owned(), slots.to_string()),
                ("assigned".to_owned(), assigned.to_string()),
                ("waiting".to_owned(), waiting.len().to_string()),
                ("highest load seen".to_owned(), highest.to_string()),
                (
                    "first arrivals served".to_owned(),
                    format!("{first_served} of the first {slots}"),
                ),
                ("errors".to_owned(), errors.to_string()),
            ];
            if let Some(error) = first_error {
                extra.push(("first error".to_owned(), error));
            }
            extra
        },
        checks: vec![
            Check::new(
                "capacity never exceeded (R2)",
                highest <= i64::from(b4.capacity),
                format!("highest load seen {highest}, capacity {}", b4.capacity),
            ),
            Check::new(
                "every free slot filled",
                usize::try_from(assigned)? == expected_assigned
                    && usize::try_from(load_total)? == expected_assigned,
                format!(
                    "{assigned} assigned, loads add up to {load_total}, {expected_assigned} expected"
                ),
            ),
            Check::new(
                "the rest waits in arrival order (R5)",
                waiting.len() == expected_waiting && in_order,
                format!(
                    "{} waiting ({expected_waiting} expected), in order: {in_order}",
                    waiting.len()
                ),
            ),
            Check::new(
                "every arrival stored",
                errors == 0,
                format!("{errors} arrivals refused"),
            ),
        ],
    })
}

fn waiting_since(
    conversation: &conversation_core::conversation::Conversation,
) -> conversation_core::Timestamp {
    match conversation.assignment() {
        Some(conversation_core::conversation::Assignment::Waiting { since, .. }) => *since,
        _ => conversation.created_at,
    }
}

/// The account with its owner, the queue of available agents, the inbox routing to it and the
/// contacts that will write.
async fn set_up(app: &App, prefix: &str, b4: B4Options) -> BenchResult<Setup> {
    let email = format!("{prefix}@bench.test");
    let created = app
        .bootstrap(&email, Some(PASSWORD))
        .await?
        .ok_or("the B4 owner already exists: the database is not fresh")?;
    let account = created.account;
    let owner = app
        .authenticate(&app.sign_in(&email, PASSWORD).await?.token)
        .await?;
    let mut members = Vec::with_capacity(b4.agents);
    for n in 0..b4.agents {
        let agent = app
            .create_agent(
                &owner,
                NewAgent {
                    name: format!("Agent {n}"),
                    email: format!("{prefix}-agent-{n}@bench.test"),
                    role: conversation_core::actor::Role::Agent,
                    full_access: false,
                    permissions: BTreeSet::new(),
                    capacity: Some(b4.capacity),
                    experience_level: None,
                    cost_tier: None,
                    password: PASSWORD.into(),
                },
            )
            .await?;
        app.set_availability(&owner, Some(agent.id), SetAvailability::Available)
            .await?;
        members.push(agent.id);
    }
    let queue = app
        .create_queue(
            &owner,
            NewQueue {
                name: "Burst".into(),
                strategy: Some(RoutingStrategy::LeastLoaded),
                delivery: None,
                offer_timeout_secs: None,
                members,
            },
        )
        .await?;
    let inbox = Inbox {
        id: InboxId::from_uuid(app.new_id()),
        account,
        name: "Bench burst".into(),
        channel: ChannelKind::WebChat,
        queue: Some(queue.id),
        settings: InboxSettings::default(),
    };
    app.store().save_inbox(&inbox).await?;
    let contacts: Vec<Contact> = (0..b4.conversations)
        .map(|i| fixture::contact(app, account, i))
        .collect();
    for chunk in contacts.chunks(1000) {
        app.store().save_contacts(chunk).await?;
    }
    Ok(Setup {
        account,
        queue: queue.id,
        inbox,
        contacts: contacts.iter().map(|c| c.id).collect(),
    })
}

type Burst = (Summary, Option<Duration>, u64, Option<String>);

/// Every contact writes once, `clients` at a time; returns the arrival latencies, when the
/// `slots`-th assignment happened (counted from the first arrival), and the refusals.
async fn burst(app: &App, setup: &Setup, b4: B4Options, slots: usize) -> BenchResult<Burst> {
    let contacts = Arc::new(setup.contacts.clone());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let assigned = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let filled = Arc::new(std::sync::Mutex::new(None::<Duration>));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(b4.clients);
    for _ in 0..b4.clients {
        let (app, inbox) = (app.clone(), setup.inbox.clone());
        let (contacts, next) = (Arc::clone(&contacts), Arc::clone(&next));
        let (assigned, filled) = (Arc::clone(&assigned), Arc::clone(&filled));
        tasks.push(tokio::spawn(async move {
            let mut samples = Samples::new();
            let (mut errors, mut first_error) = (0_u64, None);
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(contact) = contacts.get(index) else {
                    break;
                };
                let sent = Instant::now();
                let result = app
                    .receive_inbound(
                        &inbox,
                        *contact,
                        Inbound {
                            kind: MessageKind::Text,
                            body: "Hello, is anyone there?".into(),
                            attachment: None,
                            external_id: None,
                            client_id: None,
                        },
                    )
                    .await;
                match result {
                    Ok(received) => {
                        samples.push(sent.elapsed());
                        let routed = app
                            .store()
                            .conversation(inbox.account, received.conversation)
                            .await
                            .ok()
                            .flatten()
                            .is_some_and(|c| c.value.assignee().is_some());
                        if routed && assigned.fetch_add(1, Ordering::Relaxed) + 1 == slots {
                            let mut filled = filled.lock().unwrap_or_else(|e| e.into_inner());
                            filled.get_or_insert(started.elapsed());
                        }
                    }
                    Err(error) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| error.to_string());
                    }
                }
            }
            (samples, errors, first_error)
        }));
    }
    let mut samples = Samples::new();
    let (mut errors, mut first_error) = (0, None);
    for task in tasks {
        let (s, e, f) = task.await?;
        samples.merge(s);
        errors += e;
        if first_error.is_none() {
            first_error = f;
        }
    }
    let elapsed = started.elapsed();
    let filled = *filled.lock().unwrap_or_else(|e| e.into_inner());
    Ok((samples.summary(elapsed), filled, errors, first_error))
}

/// The baseline: `rows` single-row inserts of a conversation's size, `clients` at a time (one
/// connection on SQLite, which has one writer), into a scratch table dropped afterwards.
async fn raw_inserts(db: &Db, rows: usize, clients: usize) -> BenchResult<Summary> {
    db.execute("DROP TABLE IF EXISTS bench_b4_raw", &[]).await?;
    db.execute(
        "CREATE TABLE bench_b4_raw (id BIGINT PRIMARY KEY, state TEXT NOT NULL)",
        &[],
    )
    .await?;
    let state = "x".repeat(600);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (db, state, next) = (db.clone(), state.clone(), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut samples = Samples::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= rows {
                    break;
                }
                let sent = Instant::now();
                let inserted = db
                    .execute(
                        "INSERT INTO bench_b4_raw (id, state) VALUES ($1, $2)",
                        &[
                            Arg::from(i64::try_from(n).unwrap_or(i64::MAX)),
                            Arg::from(state.as_str()),
                        ],
                    )
                    .await;
                if inserted.is_ok() {
                    samples.push(sent.elapsed());
                }
            }
            samples
        }));
    }
    let mut samples = Samples::new();
    for task in tasks {
        samples.merge(task.await?);
    }
    let summary = samples.summary(started.elapsed());
    db.execute("DROP TABLE bench_b4_raw", &[]).await?;
    Ok(summary)
}
