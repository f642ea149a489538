//! B3, realtime: `sockets` agent websockets (`/api/v1/ws`, first-frame auth, resuming after the
//! account's current sequence) spread over `accounts` accounts, each signed in as its owner (who
//! receives every event of the account); replies are posted over HTTP at `rate` per second,
//! round robin over the accounts, for `duration`, so each event reaches `sockets / accounts`
//! sockets. Delivery latency is the time from the event's own `at` (stamped by the server when
//! it decided the change, before the commit) to its arrival at the client. Baseline: the bare
//! broadcast of [`crate::ws_baseline`] with the same sockets, groups, rate and count.
//!
//! Checked: every socket received every event of its account after its starting sequence, in
//! order, none twice (nothing lost).

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use conversation_core::ports::Clock;
use futures_util::{SinkExt, StreamExt};
use inbox_app::system::SystemClock;
use inbox_store::sql::Arg;
use serde::Deserialize;
use tokio::io::AsyncBufReadExt;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::report::{Check, Outcome};
use crate::server::{Server, sign_in};
use crate::stats::{Samples, Summary, resident_mb};
use crate::target::{StoreKind, Target, close, scalar};
use crate::{BenchResult, Options, fixture};

/// Sizes of B3.
#[derive(Clone, Copy, Debug)]
pub struct B3Options {
    /// Connected sockets.
    pub sockets: usize,
    /// Accounts they are spread over.
    pub accounts: usize,
    /// Events (replies) per second, over all accounts.
    pub rate: u64,
    /// How long events are sent.
    pub duration: Duration,
}

#[derive(Deserialize)]
struct Frame {
    #[serde(rename = "type")]
    kind: String,
    sequence: Option<u64>,
    event: Option<At>,
}

#[derive(Deserialize)]
struct At {
    at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What one socket saw.
#[derive(Default)]
struct Seen {
    samples: Samples,
    received: u64,
    out_of_order: u64,
    last: u64,
}

/// Runs B3 on one store.
///
/// # Errors
/// When the set-up fails.
pub async fn run(options: &Options, kind: StoreKind) -> BenchResult<Outcome> {
    let b3 = options.b3;
    let target = Target::fresh(
        kind,
        &options.work_dir,
        options.postgres_url.as_deref(),
        "b3",
        options.wipe_postgres,
    )
    .await?;
    let store = target.open(2).await?;
    let accounts = fixture::accounts(
        &fixture::app(store.clone()),
        &format!("b3-{}", options.run_id),
        b3.accounts,
        10,
    )
    .await?;
    let server = Server::start(
        &options.server_mode(),
        &target,
        &accounts[0].owner_email,
        16,
        &options.work_dir.join(format!("b3-{}.log", kind.name())),
    )
    .await?;
    let mut tokens = Vec::new();
    let mut starts = Vec::new();
    for account in &accounts {
        tokens.push(sign_in(&server.base, &account.owner_email).await?);
        starts.push(u64::try_from(
            scalar(
                store.db(),
                "SELECT event_seq AS n FROM accounts WHERE id = $1",
                &[Arg::from(account.account)],
            )
            .await?,
        )?);
    }
    let ws_base = server.base.replace("http://", "ws://");
    let (finals_tx, finals_rx) = watch::channel(None::<Arc<Vec<u64>>>);
    let mut readers = Vec::with_capacity(b3.sockets);
    let connect_started = Instant::now();
    for i in 0..b3.sockets {
        let a = i % accounts.len();
        let url = format!("{ws_base}/api/v1/ws");
        let auth =
            serde_json::json!({"type": "auth", "token": tokens[a], "after": starts[a]}).to_string();
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        let (mut sink, stream) = ws.split();
        sink.send(Message::text(auth)).await?;
        readers.push(tokio::spawn(read(
            stream,
            sink,
            a,
            starts[a],
            finals_rx.clone(),
        )));
    }
    let connect_secs = connect_started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_connected = server.resident_mb();

    // Events: replies round robin over the accounts' conversations.
    let http = reqwest::Client::new();
    let count = b3.rate * b3.duration.as_secs();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / b3.rate.max(1) as f64));
    let mut posts = Vec::new();
    let started = Instant::now();
    let mut rss_peak = rss_connected.unwrap_or(0.0);
    for n in 0..count {
        ticker.tick().await;
        let a = usize::try_from(n).unwrap_or(0) % accounts.len();
        let account = &accounts[a];
        let conversation = account.conversations
            [usize::try_from(n / accounts.len() as u64).unwrap_or(0) % account.conversations.len()];
        let request = http
            .post(format!(
                "{}/api/v1/conversations/{conversation}/messages",
                server.base
            ))
            .bearer_auth(&tokens[a])
            .json(
                &serde_json::json!({"body": format!("event {n}"), "client_id": format!("b3-{n}")}),
            );
        posts.push(tokio::spawn(async move {
            request
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false)
        }));
        if n % 100 == 0 {
            rss_peak = rss_peak.max(server.resident_mb().unwrap_or(0.0));
        }
    }
    let mut posted = 0_u64;
    for post in posts {
        posted += u64::from(post.await?);
    }
    let mut finals = Vec::new();
    for account in &accounts {
        finals.push(u64::try_from(
            scalar(
                store.db(),
                "SELECT event_seq AS n FROM accounts WHERE id = $1",
                &[Arg::from(account.account)],
            )
            .await?,
        )?);
    }
    let expected: u64 = (0..b3.sockets)
        .map(|i| finals[i % accounts.len()] - starts[i % accounts.len()])
        .sum();
    finals_tx.send_replace(Some(Arc::new(finals.clone())));
    let (server_summary, received, out_of_order) = collect(readers, started).await?;
    rss_peak = rss_peak.max(server.resident_mb().unwrap_or(0.0));
    server.stop().await;
    close(&store).await;

    let baseline = baseline(options, b3, count).await?;
    let full = b3.sockets >= 10_000;
    let lost = expected.saturating_sub(received);
    let mut extra = vec![
        (
            "sockets".to_owned(),
            format!(
                "{} over {} accounts ({:.1} s to connect)",
                b3.sockets,
                accounts.len(),
                connect_secs
            ),
        ),
        (
            "replies posted".to_owned(),
            format!("{posted} of {count} at {}/s", b3.rate),
        ),
        (
            "deliveries/s".to_owned(),
            format!(
                "{:.0} (raw {:.0})",
                server_summary.per_sec, baseline.0.per_sec
            ),
        ),
        ("server RSS peak".to_owned(), format!("{rss_peak:.1} MB")),
        ("raw RSS".to_owned(), format!("{:.1} MB", baseline.1)),
    ];
    if let Some(rss) = rss_connected {
        extra.push((
            "server RSS connected, idle".to_owned(),
            format!("{rss:.1} MB"),
        ));
    }
    Ok(Outcome {
        scenario: "B3".into(),
        store: kind.name().into(),
        variant: format!(
            "{} sockets, {}/s to {} each",
            b3.sockets,
            b3.rate,
            b3.sockets / accounts.len()
        ),
        unit: "ms p99".into(),
        value: server_summary.p99_ms,
        baseline: Some(baseline.0.p99_ms),
        ratio: Some(baseline.0.p99_ms / server_summary.p99_ms.max(f64::MIN_POSITIVE)),
        target: "p99 < 50 ms, none lost, < 200 MB (10 000 sockets)".into(),
        met: full.then_some(server_summary.p99_ms < 50.0 && lost == 0 && rss_peak < 200.0),
        server: server_summary,
        raw: Some(baseline.0),
        extra,
        checks: vec![
            Check::new(
                "every socket received every event of its account",
                lost == 0 && received == expected,
                format!("{received} delivered of {expected} expected"),
            ),
            Check::new(
                "in order, none twice",
                out_of_order == 0,
                format!("{out_of_order} out of order"),
            ),
            Check::new(
                "every reply posted",
                posted == count,
                format!("{posted} of {count}"),
            ),
            Check::new(
                "events flowed",
                expected > 0,
                format!("{expected} deliveries expected"),
            ),
        ],
    })
}

/// Reads one socket until it has seen its account's final sequence (or is told to stop).
async fn read<S, K>(
    mut stream: S,
    _sink: K,
    account: usize,
    start: u64,
    mut finals: watch::Receiver<Option<Arc<Vec<u64>>>>,
) -> Seen
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let clock = SystemClock::default();
    let mut seen = Seen {
        last: start,
        ..Seen::default()
    };
    loop {
        if let Some(finals) = finals.borrow().as_ref()
            && seen.last >= finals.get(account).copied().unwrap_or(0)
        {
            return seen;
        }
        tokio::select! {
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let now = clock.now();
                    let Ok(frame) = serde_json::from_str::<Frame>(text.as_str()) else { continue };
                    if frame.kind != "event" {
                        continue;
                    }
                    let sequence = frame.sequence.unwrap_or(0);
                    if sequence != seen.last + 1 {
                        seen.out_of_order += 1;
                    }
                    seen.last = seen.last.max(sequence);
                    seen.received += 1;
                    if let Some(at) = frame.event.and_then(|e| e.at) {
                        seen.samples.push_micros(u64::try_from((now - at).num_microseconds().unwrap_or(0)).unwrap_or(0));
                    }
                }
                Some(Ok(_)) => {}
                _ => return seen,
            },
            changed = finals.changed() => if changed.is_err() { return seen },
        }
    }
}

/// Waits (up to 30 s after the last event) for every reader and sums them up.
async fn collect(
    readers: Vec<tokio::task::JoinHandle<Seen>>,
    started: Instant,
) -> BenchResult<(Summary, u64, u64)> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let (mut samples, mut received, mut out_of_order) = (Samples::new(), 0, 0);
    for reader in readers {
        let abort = reader.abort_handle();
        match tokio::time::timeout_at(deadline, reader).await {
            Ok(seen) => {
                let seen = seen?;
                samples.merge(seen.samples);
                received += seen.received;
                out_of_order += seen.out_of_order;
            }
            Err(_) => abort.abort(),
        }
    }
    Ok((samples.summary(started.elapsed()), received, out_of_order))
}

/// The bare broadcast with the same shape: its delivery summary and resident memory.
async fn baseline(options: &Options, b3: B3Options, count: u64) -> BenchResult<(Summary, f64)> {
    let mut child = tokio::process::Command::new(&options.bench_bin)
        .args(["ws-baseline", "--groups", &b3.accounts.to_string()])
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = lines
        .next_line()
        .await?
        .ok_or("the baseline server printed nothing")?;
    let port: u16 = line.trim_start_matches("listening ").parse()?;
    let groups = b3.accounts.max(1);
    let (finals_tx, finals_rx) = watch::channel(None::<Arc<Vec<u64>>>);
    let mut readers = Vec::with_capacity(b3.sockets);
    for i in 0..b3.sockets {
        let (ws, _) =
            tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws/{}", i % groups))
                .await?;
        let (sink, stream) = ws.split();
        readers.push(tokio::spawn(read(
            stream,
            sink,
            i % groups,
            0,
            finals_rx.clone(),
        )));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{port}/start?rate={}&count={count}",
            b3.rate
        ))
        .send()
        .await?;
    let finals: Vec<u64> = (0..groups as u64)
        .map(|g| count / groups as u64 + u64::from(g < count % groups as u64))
        .collect();
    tokio::time::sleep(b3.duration).await;
    let rss = child.id().and_then(resident_mb).unwrap_or(0.0);
    finals_tx.send_replace(Some(Arc::new(finals)));
    let (summary, _, _) = collect(readers, started).await?;
    let _ = child.kill().await;
    Ok((summary, rss))
}
