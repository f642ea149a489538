//! Smoke test of the benchmark tool: every scenario at tiny sizes, on SQLite and on PostgreSQL
//! (`INBOX_TEST_POSTGRES_URL`), through the real router over real sockets. It asserts that the
//! tool still works and that its correctness checks hold (every acknowledged message stored
//! once, list totals and first pages right, every event delivered in order, routing never above
//! capacity), never speed.

use std::path::PathBuf;
use std::time::Duration;

use inbox_bench::b1_ingest::B1Options;
use inbox_bench::b2_lists::B2Options;
use inbox_bench::b3_realtime::B3Options;
use inbox_bench::b4_routing::B4Options;
use inbox_bench::b5_startup::B5Options;
use inbox_bench::b6_reports::B6Options;
use inbox_bench::target::StoreKind;
use inbox_bench::{Options, Scenario};

/// The `inbox-server` binary of this build profile, brought up to date first (B5 measures the
/// real binary; cargo builds a package's own binaries for its tests, not another package's).
fn server_bin() -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    let bench = PathBuf::from(env!("CARGO_BIN_EXE_inbox-bench"));
    let bin = bench.with_file_name("inbox-server");
    BUILT.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut command = std::process::Command::new(cargo);
        command.args(["build", "--locked", "-p", "inbox-server"]);
        if bench.parent().and_then(|p| p.file_name()) == Some("release".as_ref()) {
            command.arg("--release");
        }
        let status = command.status().expect("cargo runs");
        assert!(status.success(), "cargo build -p inbox-server failed");
    });
    assert!(bin.exists(), "{} exists", bin.display());
    bin
}

fn options(store: StoreKind, work_dir: PathBuf) -> Options {
    Options {
        stores: vec![store],
        scenarios: vec![
            Scenario::B1,
            Scenario::B2,
            Scenario::B5,
            Scenario::B3,
            Scenario::B4,
            Scenario::B6,
        ],
        postgres_url: std::env::var("INBOX_TEST_POSTGRES_URL").ok(),
        work_dir,
        server_bin: Some(server_bin()),
        in_process: true,
        bench_bin: PathBuf::from(env!("CARGO_BIN_EXE_inbox-bench")),
        b1: B1Options {
            clients: 4,
            conversations: 3,
            duration: Duration::from_secs(2),
        },
        b2: B2Options {
            conversations: 300,
            messages: 1_500,
            clients: 2,
            duration: Duration::from_millis(500),
        },
        b3: B3Options {
            sockets: 20,
            accounts: 2,
            rate: 20,
            duration: Duration::from_secs(2),
        },
        b4: B4Options {
            conversations: 40,
            agents: 5,
            capacity: 3,
            clients: 8,
        },
        b5: B5Options {
            runs: 2,
            idle: Duration::from_millis(200),
        },
        b6: B6Options {
            conversations: 300,
            requests: 3,
        },
        wipe_postgres: false,
        run_id: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
        command: "smoke".into(),
        progress: false,
    }
}

async fn smoke(store: StoreKind) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let options = options(store, dir.path().to_path_buf());
    let report = inbox_bench::run(&options)
        .await
        .expect("the benchmark runs");
    let scenarios: Vec<&str> = report
        .outcomes
        .iter()
        .map(|o| o.scenario.as_str())
        .collect();
    for scenario in ["B1", "B2", "B3", "B4", "B5", "B6"] {
        assert!(
            scenarios.contains(&scenario),
            "{scenario} reported: {scenarios:?}"
        );
    }
    assert_eq!(
        report
            .outcomes
            .iter()
            .filter(|o| o.scenario == "B2")
            .count(),
        6,
        "one B2 outcome per C9 filter"
    );
    assert!(
        report.failures().is_empty(),
        "checks failed: {:#?}",
        report.failures()
    );
    report.write(dir.path()).expect("results written");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("results.json")).expect("results.json"),
    )
    .expect("valid JSON");
    assert_eq!(
        json["outcomes"].as_array().map(Vec::len),
        Some(report.outcomes.len())
    );
    let markdown = std::fs::read_to_string(dir.path().join("results.md")).expect("results.md");
    assert!(
        markdown.contains("| B1 |") && markdown.contains("| B3 |"),
        "{markdown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_sqlite() {
    smoke(StoreKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_postgres() {
    assert!(
        std::env::var("INBOX_TEST_POSTGRES_URL").is_ok(),
        "INBOX_TEST_POSTGRES_URL is not set: run the suite with ./scripts/test"
    );
    smoke(StoreKind::Postgres).await;
}
