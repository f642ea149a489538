//! `inbox-bench`: the project's benchmark tool. It measures the inbox server against the
//! machine's raw limits **in the same run** (quality.md, B1-B5), on embedded SQLite and on
//! PostgreSQL:
//!
//! - B1 ingest ([`b1_ingest`]): concurrent authenticated clients posting messages, against
//!   single-row inserts straight into the database;
//! - B2 lists ([`b2_lists`]): every C9 list paged at 8 concurrent clients over a bulk-seeded
//!   account ([`seed`]), against the raw indexed query for the same page;
//! - B3 realtime ([`b3_realtime`]): thousands of agent websockets receiving events, against a bare
//!   websocket broadcast ([`ws_baseline`]);
//! - B4 routing burst ([`b4_routing`]): thousands of conversations arriving at once into one
//!   queue, against single-row inserts of as many rows as there are slots;
//! - B5 start-up and idle memory ([`b5_startup`]) of the `inbox-server` binary on an existing
//!   database, against starting the same binary only to print its version;
//! - B6 reports ([`b6_reports`]): a conversation report over a year of a bulk-seeded account,
//!   against the raw aggregate query over the same rollups (P1, `docs/reports.md`).
//!
//! Each scenario also checks correctness (nothing lost, nothing doubled); the smoke test
//! (`tests/smoke.rs`) runs every scenario at tiny sizes and asserts those checks, never speed.
//! Results are printed, and written as `results.json` and `results.md` ([`report`]).

pub mod b1_ingest;
pub mod b2_lists;
pub mod b3_realtime;
pub mod b4_routing;
pub mod b5_startup;
pub mod b6_reports;
pub mod fixture;
pub mod report;
pub mod seed;
pub mod server;
pub mod stats;
pub mod target;
pub mod ws_baseline;

use std::path::PathBuf;

use crate::report::{Machine, Outcome, Report};
use crate::server::ServerMode;
use crate::target::StoreKind;

/// The error of a run: what failed, in words.
pub type BenchError = Box<dyn std::error::Error + Send + Sync>;
/// A result of the tool.
pub type BenchResult<T> = Result<T, BenchError>;

/// A scenario of quality.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Message ingest.
    B1,
    /// Inbox lists.
    B2,
    /// Realtime fan-out.
    B3,
    /// Routing burst.
    B4,
    /// Start-up and idle memory.
    B5,
    /// Reports over a year.
    B6,
}

/// What to run and how big.
#[derive(Clone, Debug)]
pub struct Options {
    /// The stores, in order.
    pub stores: Vec<StoreKind>,
    /// The scenarios; run in the order B1, B2, B5, B3, B4 (B5 starts on B2's database).
    pub scenarios: Vec<Scenario>,
    /// A PostgreSQL database the tool may empty.
    pub postgres_url: Option<String>,
    /// Where SQLite files, server logs and results go.
    pub work_dir: PathBuf,
    /// The `inbox-server` binary; required by B5, and used by the other scenarios unless
    /// `in_process`.
    pub server_bin: Option<PathBuf>,
    /// Serve the router in this process instead of starting `server_bin` (B1, B2, B3).
    pub in_process: bool,
    /// This tool's own binary (it runs the websocket baseline as a child process).
    pub bench_bin: PathBuf,
    /// B1 sizes.
    pub b1: b1_ingest::B1Options,
    /// B2 sizes.
    pub b2: b2_lists::B2Options,
    /// B3 sizes.
    pub b3: b3_realtime::B3Options,
    /// B4 sizes.
    pub b4: b4_routing::B4Options,
    /// B5 repetitions.
    pub b5: b5_startup::B5Options,
    /// B6 sizes.
    pub b6: b6_reports::B6Options,
    /// Empty the PostgreSQL database before each scenario (off when it is shared, as in the
    /// test suite: every scenario works in accounts of its own anyway).
    pub wipe_postgres: bool,
    /// A tag that makes this run's owner emails unique.
    pub run_id: String,
    /// The command line, for the report.
    pub command: String,
    /// Show progress on stderr.
    pub progress: bool,
}

impl Options {
    /// How the server under test runs for B1, B2 and B3.
    ///
    /// # Panics
    /// Never: [`run`] refuses options with neither a binary nor `in_process`.
    #[must_use]
    pub fn server_mode(&self) -> ServerMode {
        match (&self.server_bin, self.in_process) {
            (Some(bin), false) => ServerMode::Process(bin.clone()),
            _ => ServerMode::InProcess,
        }
    }
}

/// Runs the scenarios on the stores and returns the report (also printing each outcome).
///
/// # Errors
/// When a scenario cannot be set up or run; failed correctness checks are in the report.
pub async fn run(options: &Options) -> BenchResult<Report> {
    if options.server_bin.is_none() && !options.in_process {
        return Err("no inbox-server binary found: build it (cargo build --release -p inbox-server) or pass --server-bin".into());
    }
    std::fs::create_dir_all(&options.work_dir)?;
    let mut outcomes = Vec::new();
    let started = conversation_core::ports::Clock::now(&inbox_app::system::SystemClock::default());
    let wanted = |s| options.scenarios.contains(&s);
    for &kind in &options.stores {
        if wanted(Scenario::B1) {
            eprintln!("== B1 ingest on {}", kind.name());
            push(&mut outcomes, vec![b1_ingest::run(options, kind).await?]);
        }
        if wanted(Scenario::B2) {
            eprintln!("== B2 lists on {}", kind.name());
            push(&mut outcomes, b2_lists::run(options, kind).await?);
        }
        if wanted(Scenario::B5) {
            eprintln!("== B5 start-up on {}", kind.name());
            push(&mut outcomes, b5_startup::run(options, kind).await?);
        }
        if wanted(Scenario::B3) {
            eprintln!("== B3 realtime on {}", kind.name());
            push(&mut outcomes, vec![b3_realtime::run(options, kind).await?]);
        }
        if wanted(Scenario::B4) {
            eprintln!("== B4 routing burst on {}", kind.name());
            push(&mut outcomes, vec![b4_routing::run(options, kind).await?]);
        }
        if wanted(Scenario::B6) {
            eprintln!("== B6 reports on {}", kind.name());
            push(&mut outcomes, vec![b6_reports::run(options, kind).await?]);
        }
    }
    Ok(Report {
        started: started.to_rfc3339(),
        command: options.command.clone(),
        machine: Machine::this(),
        outcomes,
    })
}

fn push(outcomes: &mut Vec<Outcome>, new: Vec<Outcome>) {
    for outcome in new {
        eprintln!(
            "{} {} {}: {:.2} {} (p50 {:.2} ms, p99 {:.2} ms); raw {}; ratio {}; target {}: {}{}",
            outcome.scenario,
            outcome.store,
            outcome.variant,
            outcome.value,
            outcome.unit,
            outcome.server.p50_ms,
            outcome.server.p99_ms,
            outcome
                .baseline
                .map_or_else(|| "-".to_owned(), |b| format!("{b:.2} {}", outcome.unit)),
            outcome
                .ratio
                .map_or_else(|| "-".to_owned(), |r| format!("{:.1} %", r * 100.0)),
            outcome.target,
            match outcome.met {
                Some(true) => "met",
                Some(false) => "NOT met",
                None => "not judged",
            },
            if outcome.extra.is_empty() {
                String::new()
            } else {
                format!(
                    "; {}",
                    outcome
                        .extra
                        .iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        );
        for check in outcome.checks.iter().filter(|c| !c.ok) {
            eprintln!("   CHECK FAILED: {} ({})", check.name, check.detail);
        }
        outcomes.push(outcome);
    }
}
