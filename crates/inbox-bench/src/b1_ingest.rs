//! B1, message ingest: `clients` concurrent authenticated HTTP clients post 200-byte replies
//! into `conversations` conversations for `duration` (`POST /api/v1/conversations/{id}/messages`,
//! each with its own `client_id`: validated, masked, stored with its event, fanned out, durable).
//! Baseline, in the same run and on the same database: the same number of database connections
//! (one on SQLite: it has one writer, and more connections only add lock waits) inserting an
//! equivalent message row (same table, same indexes, same foreign key, a state JSON of the same
//! size) directly with sqlx, one row per transaction.
//!
//! Checked: every message answered 201 is stored exactly once (counted by `client_id`), and every
//! conversation's message sequence is gap-free.

use std::sync::Arc;
use std::time::{Duration, Instant};

use conversation_core::actor::Actor;
use conversation_core::ids::{AgentId, MessageId};
use conversation_core::message::{Direction, Message, MessageKind};
use inbox_store::sql::{Arg, Db};

use crate::fixture::{self, AccountFixture};
use crate::report::{Check, Outcome};
use crate::server::{Server, sign_in};
use crate::stats::{Samples, Summary};
use crate::target::{StoreKind, Target, close, scalar};
use crate::{BenchResult, Options};

/// Sizes of B1.
#[derive(Clone, Copy, Debug)]
pub struct B1Options {
    /// Concurrent clients (and baseline connections on PostgreSQL).
    pub clients: usize,
    /// Conversations written into.
    pub conversations: usize,
    /// How long each phase runs.
    pub duration: Duration,
}

/// A 200-byte message body.
fn body(n: u64) -> String {
    let mut text = format!("Bench reply {n}: ");
    while text.len() < 200 {
        text.push_str("thanks for waiting, your parcel is on its way. ");
    }
    text.truncate(200);
    text
}

/// Runs B1 on one store.
///
/// # Errors
/// When the set-up fails (request failures are counted, not fatal).
pub async fn run(options: &Options, kind: StoreKind) -> BenchResult<Outcome> {
    let b1 = options.b1;
    let target = Target::fresh(
        kind,
        &options.work_dir,
        options.postgres_url.as_deref(),
        "b1",
        options.wipe_postgres,
    )
    .await?;
    let store = target.open(4).await?;
    let app = fixture::app(store.clone());
    let fixture = fixture::accounts(&app, &format!("b1-{}", options.run_id), 1, b1.conversations)
        .await?
        .pop()
        .ok_or("no account")?;
    drop(app);

    let raw = raw_inserts(&target, &fixture, b1).await?;
    store
        .db()
        .execute(
            "DELETE FROM messages WHERE account_id = $1 AND client_id LIKE 'raw-%'",
            &[Arg::from(fixture.account)],
        )
        .await?;

    let server = Server::start(
        &options.server_mode(),
        &target,
        &fixture.owner_email,
        u32::try_from(b1.clients.clamp(4, 32))?,
        &options.work_dir.join(format!("b1-{}.log", kind.name())),
    )
    .await?;
    let token = sign_in(&server.base, &fixture.owner_email).await?;
    let (measured, ok, errors, first_error, rss) =
        http_ingest(&server, &token, &fixture, b1).await?;
    server.stop().await;

    let db = store.db();
    let account = Arg::from(fixture.account);
    let stored = scalar(
        db,
        "SELECT COUNT(*) AS n FROM messages WHERE account_id = $1 AND client_id LIKE 'b1-%'",
        std::slice::from_ref(&account),
    )
    .await?;
    let distinct = scalar(
        db,
        "SELECT COUNT(DISTINCT client_id) AS n FROM messages WHERE account_id = $1 AND client_id LIKE 'b1-%'",
        std::slice::from_ref(&account),
    )
    .await?;
    let gaps = scalar(
        db,
        "SELECT COUNT(*) AS n FROM conversations c WHERE c.account_id = $1 AND c.message_seq <> \
         (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id)",
        std::slice::from_ref(&account),
    )
    .await?;
    close(&store).await;

    let ratio = measured.per_sec / raw.per_sec.max(f64::MIN_POSITIVE);
    let mut extra = vec![
        ("clients".to_owned(), b1.clients.to_string()),
        ("conversations".to_owned(), b1.conversations.to_string()),
        (
            "seconds".to_owned(),
            format!("{:.0}", b1.duration.as_secs_f64()),
        ),
        ("errors".to_owned(), errors.to_string()),
    ];
    if let Some(rss) = rss {
        extra.push(("server RSS under load".to_owned(), format!("{rss:.1} MB")));
    }
    if let Some(error) = first_error {
        extra.push(("first error".to_owned(), error));
    }
    Ok(Outcome {
        scenario: "B1".into(),
        store: kind.name().into(),
        variant: format!("ingest, {} clients", b1.clients),
        unit: "msg/s".into(),
        value: measured.per_sec,
        baseline: Some(raw.per_sec),
        ratio: Some(ratio),
        target: ">= 40 % of raw and > 8000 msg/s".into(),
        met: Some(ratio >= 0.4 && measured.per_sec > 8000.0),
        server: measured,
        raw: Some(raw),
        extra,
        checks: vec![
            Check::new(
                "every acknowledged message stored once",
                stored == i64::try_from(ok)? && distinct == stored,
                format!("{ok} acknowledged, {stored} stored, {distinct} distinct client ids"),
            ),
            Check::new(
                "message sequences gap-free",
                gaps == 0,
                format!("{gaps} conversations whose sequence disagrees with their messages"),
            ),
            Check::new(
                "messages were ingested",
                ok > 0,
                format!("{ok} acknowledged, {errors} errors"),
            ),
        ],
    })
}

type HttpResult = (Summary, u64, u64, Option<String>, Option<f64>);

async fn http_ingest(
    server: &Server,
    token: &str,
    fixture: &AccountFixture,
    b1: B1Options,
) -> BenchResult<HttpResult> {
    let conversations = Arc::new(fixture.conversations.clone());
    let started = Instant::now();
    let deadline = started + b1.duration;
    let mut tasks = Vec::with_capacity(b1.clients);
    for client in 0..b1.clients {
        let conversations = Arc::clone(&conversations);
        let base = server.base.clone();
        let token = token.to_owned();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut samples = Samples::new();
            let (mut ok, mut errors, mut first_error) = (0_u64, 0_u64, None);
            let mut n: u64 = 0;
            while Instant::now() < deadline {
                let index = (client * 7919 + usize::try_from(n).unwrap_or(0)) % conversations.len();
                let url = format!(
                    "{base}/api/v1/conversations/{}/messages",
                    conversations[index]
                );
                let body =
                    serde_json::json!({"body": body(n), "client_id": format!("b1-{client}-{n}")});
                let sent = Instant::now();
                let result = http.post(&url).bearer_auth(&token).json(&body).send().await;
                match result {
                    Ok(response) if response.status() == reqwest::StatusCode::CREATED => {
                        let _ = response.bytes().await;
                        samples.push(sent.elapsed());
                        ok += 1;
                    }
                    Ok(response) => {
                        errors += 1;
                        if first_error.is_none() {
                            let status = response.status();
                            first_error = Some(format!(
                                "{status} {}",
                                response.text().await.unwrap_or_default()
                            ));
                        }
                    }
                    Err(error) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| error.to_string());
                    }
                }
                n += 1;
            }
            (samples, ok, errors, first_error)
        }));
    }
    // Resident memory half-way through the load.
    tokio::time::sleep(b1.duration / 2).await;
    let rss = server.resident_mb();
    let mut samples = Samples::new();
    let (mut ok, mut errors, mut first_error) = (0, 0, None);
    for task in tasks {
        let (s, o, e, f) = task.await?;
        samples.merge(s);
        ok += o;
        errors += e;
        if first_error.is_none() {
            first_error = f;
        }
    }
    Ok((
        samples.summary(started.elapsed()),
        ok,
        errors,
        first_error,
        rss,
    ))
}

/// The baseline: direct single-row inserts into `messages`, one per transaction.
async fn raw_inserts(
    target: &Target,
    fixture: &AccountFixture,
    b1: B1Options,
) -> BenchResult<Summary> {
    let connections = match target.kind {
        StoreKind::Sqlite => 1,
        StoreKind::Postgres => b1.clients,
    };
    let store = target.open(u32::try_from(connections)?).await?;
    let db = store.db().clone();
    let fixture = Arc::new(fixture.clone());
    let started = Instant::now();
    let deadline = started + b1.duration;
    let mut tasks = Vec::with_capacity(b1.clients);
    for client in 0..b1.clients {
        let db = db.clone();
        let fixture = Arc::clone(&fixture);
        tasks.push(tokio::spawn(async move {
            let mut samples = Samples::new();
            let mut n: u64 = 0;
            while Instant::now() < deadline {
                let sent = Instant::now();
                raw_insert(&db, &fixture, client, n).await?;
                samples.push(sent.elapsed());
                n += 1;
            }
            Ok::<_, sqlx::Error>(samples)
        }));
    }
    let mut samples = Samples::new();
    for task in tasks {
        samples.merge(task.await??);
    }
    let summary = samples.summary(started.elapsed());
    close(&store).await;
    Ok(summary)
}

async fn raw_insert(
    db: &Db,
    fixture: &AccountFixture,
    client: usize,
    n: u64,
) -> Result<(), sqlx::Error> {
    let index = (client * 7919 + usize::try_from(n).unwrap_or(0)) % fixture.conversations.len();
    let conversation = fixture.conversations[index];
    // A sequence far above the conversations' own, unique per client and row.
    let seq = 1_000_000_000_i64
        + i64::try_from(client).unwrap_or(0) * 100_000_000
        + i64::try_from(n).unwrap_or(0);
    let client_id = format!("raw-{client}-{n}");
    let message = Message {
        id: MessageId::from_uuid(uuid::Uuid::now_v7()),
        account: fixture.account,
        conversation,
        dialog: None,
        sequence: u64::try_from(seq).unwrap_or(0),
        kind: MessageKind::Text,
        direction: Direction::Outbound,
        sender: Actor::Agent(AgentId::from_uuid(uuid::Uuid::nil())),
        body: body(n),
        quote: None,
        attachment: None,
        client_id: Some(client_id.clone()),
        external_id: None,
        created_at: chrono::DateTime::UNIX_EPOCH,
        delivery: None,
        deleted: None,
        subject: None,
    };
    let state = serde_json::to_string(&message).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    db.execute(
        "INSERT INTO messages (id, account_id, conversation_id, inbox_id, dialog_id, seq, external_id, \
         client_id, created_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            Arg::from(message.id),
            Arg::from(fixture.account),
            Arg::from(conversation),
            Arg::from(fixture.inbox.id),
            Arg::Uuid(None),
            Arg::from(seq),
            Arg::Text(None),
            Arg::from(client_id),
            Arg::from(0_i64),
            Arg::from(state),
        ],
    )
    .await?;
    Ok(())
}
