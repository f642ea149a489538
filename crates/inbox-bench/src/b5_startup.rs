//! B5, start-up on an existing database and idle memory: the `inbox-server` binary is started
//! `runs` times on the database the previous scenarios left (B2's seeded account when B2 ran),
//! timed from the spawn until `/readyz` answers 200, then left idle for a second before its
//! resident memory (`VmRSS`) is read. A first start, not counted, creates its owner. Baseline:
//! the same binary started only to print its version and exit (process creation, loading and
//! linking: the floor of any start).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::report::{Check, Outcome};
use crate::server::{Server, ServerMode};
use crate::stats::{Samples, Summary};
use crate::target::{StoreKind, Target, close, scalar};
use crate::{BenchResult, Options, fixture};

/// Repetitions of B5.
#[derive(Clone, Copy, Debug)]
pub struct B5Options {
    /// Measured starts.
    pub runs: usize,
    /// How long the server idles before its memory is read.
    pub idle: Duration,
}

/// Runs B5 on one store.
///
/// # Errors
/// When no server binary is given, or it does not start.
pub async fn run(options: &Options, kind: StoreKind) -> BenchResult<Vec<Outcome>> {
    let Some(bin) = options.server_bin.clone() else {
        return Err("B5 measures the inbox-server binary: build it (cargo build --release -p inbox-server) or pass --server-bin".into());
    };
    let target = existing(options, kind).await?;
    let store = target.open(2).await?;
    let conversations = scalar(store.db(), "SELECT COUNT(*) AS n FROM conversations", &[]).await?;
    let messages = scalar(store.db(), "SELECT COUNT(*) AS n FROM messages", &[]).await?;
    close(&store).await;

    let mode = ServerMode::Process(bin.clone());
    let log = options.work_dir.join(format!("b5-{}.log", kind.name()));
    let owner = format!("b5-owner-{}@bench.test", options.run_id);
    let warm_up = Server::start(&mode, &target, &owner, 16, &log).await?;
    warm_up.stop().await;

    let (mut ready, mut raw, mut rss) = (Samples::new(), Samples::new(), Vec::new());
    let mut ready_ok = 0;
    for _ in 0..options.b5.runs {
        raw.push(version_run(&bin).await?);
        let server = Server::start(&mode, &target, &owner, 16, &log).await?;
        ready.push(server.ready_in);
        ready_ok += 1;
        tokio::time::sleep(options.b5.idle).await;
        if let Some(mb) = server.resident_mb() {
            rss.push(mb);
        }
        server.stop().await;
    }
    let runs = options.b5.runs;
    let ready = ready.summary(Duration::ZERO);
    let raw = raw.summary(Duration::ZERO);
    rss.sort_by(f64::total_cmp);
    let rss_median = rss.get(rss.len() / 2).copied().unwrap_or(0.0);
    let rss_max = rss.last().copied().unwrap_or(0.0);
    let size = vec![
        ("conversations stored".to_owned(), conversations.to_string()),
        ("messages stored".to_owned(), messages.to_string()),
        ("starts".to_owned(), runs.to_string()),
    ];
    Ok(vec![
        Outcome {
            scenario: "B5".into(),
            store: kind.name().into(),
            variant: "start-up until /readyz".into(),
            unit: "ms median".into(),
            value: ready.p50_ms,
            baseline: Some(raw.p50_ms),
            ratio: Some(raw.p50_ms / ready.p50_ms.max(f64::MIN_POSITIVE)),
            target: "ready in < 500 ms".into(),
            met: Some(ready.max_ms < 500.0),
            server: ready,
            raw: Some(raw),
            extra: size,
            checks: vec![Check::new(
                "every start became ready",
                ready_ok == runs,
                format!("{ready_ok} of {runs}"),
            )],
        },
        Outcome {
            scenario: "B5".into(),
            store: kind.name().into(),
            variant: "idle resident memory".into(),
            unit: "MB median".into(),
            value: rss_median,
            baseline: None,
            ratio: None,
            target: "< 30 MB".into(),
            met: Some(rss_max < 30.0),
            server: Summary::default(),
            raw: None,
            extra: vec![("max".to_owned(), format!("{rss_max:.1} MB"))],
            checks: vec![Check::new(
                "memory was read",
                rss.len() == runs,
                format!("{} readings of {runs}", rss.len()),
            )],
        },
    ])
}

/// The database left by the previous scenarios, or a small new one.
async fn existing(options: &Options, kind: StoreKind) -> BenchResult<Target> {
    if kind == StoreKind::Sqlite {
        for scenario in ["b2", "b1"] {
            let dir = std::path::absolute(options.work_dir.join(format!("{scenario}-sqlite")))?;
            if Path::new(&dir.join("inbox.sqlite3")).exists() {
                return Ok(Target {
                    kind,
                    url: format!("sqlite://{}", dir.join("inbox.sqlite3").display()),
                    dir: Some(dir),
                });
            }
        }
    }
    if kind == StoreKind::Postgres {
        let target = Target {
            kind,
            url: options.postgres_url.clone().ok_or("no PostgreSQL URL")?,
            dir: None,
        };
        let store = target.open(2).await?;
        let conversations =
            scalar(store.db(), "SELECT COUNT(*) AS n FROM conversations", &[]).await?;
        close(&store).await;
        if conversations > 0 {
            return Ok(target);
        }
    }
    let target = Target::fresh(
        kind,
        &options.work_dir,
        options.postgres_url.as_deref(),
        "b5",
        options.wipe_postgres,
    )
    .await?;
    let store = target.open(2).await?;
    fixture::accounts(
        &fixture::app(store.clone()),
        &format!("b5-{}", options.run_id),
        1,
        10,
    )
    .await?;
    close(&store).await;
    Ok(target)
}

async fn version_run(bin: &Path) -> BenchResult<Duration> {
    let started = Instant::now();
    let status = tokio::process::Command::new(bin)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .status()
        .await?;
    if !status.success() {
        return Err(format!("{} --version failed: {status}", bin.display()).into());
    }
    Ok(started.elapsed())
}
