//! `inbox-bench`: runs the benchmarks of quality.md (B1-B5) against the inbox server on
//! SQLite and PostgreSQL, each with its raw baseline in the same run; prints every figure and
//! writes `results.json` and `results.md`. The defaults finish in a few minutes; `--full` takes
//! the sizes of quality.md. See `docs/benchmarks.md`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use inbox_bench::b1_ingest::B1Options;
use inbox_bench::b2_lists::B2Options;
use inbox_bench::b3_realtime::B3Options;
use inbox_bench::b4_routing::B4Options;
use inbox_bench::b5_startup::B5Options;
use inbox_bench::b6_reports::B6Options;
use inbox_bench::target::StoreKind;
use inbox_bench::{Options, Scenario};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Store {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Which {
    B1,
    B2,
    B3,
    B4,
    B5,
    B6,
}

/// Benchmarks of the inbox server against the machine's raw limits, measured in the same run.
#[derive(Debug, Parser)]
#[command(name = "inbox-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Stores to run on.
    #[arg(long, value_enum, default_value_t = Store::Both)]
    store: Store,
    /// Scenarios (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Which::B1, Which::B2, Which::B5, Which::B3, Which::B4, Which::B6])]
    scenarios: Vec<Which>,
    /// A PostgreSQL database the tool may empty.
    #[arg(long, env = "INBOX_BENCH_POSTGRES_URL", hide_env_values = true)]
    postgres_url: Option<String>,
    /// Where databases, server logs and results go.
    #[arg(long, default_value = "target/bench")]
    work_dir: PathBuf,
    /// The inbox-server binary (default: next to this one).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Serve the router inside this process for B1, B2 and B3 (B5 still needs the binary).
    #[arg(long)]
    in_process: bool,
    /// The sizes of quality.md: B2 with 1 000 000 conversations and 10 000 000 messages, B3
    /// with 10 000 sockets, B4 with 10 000 arrivals for 200 agents, B1 for 30 s; B6 with 500 000
    /// conversations over a year.
    #[arg(long)]
    full: bool,
    /// B1: concurrent clients.
    #[arg(long, default_value_t = 32)]
    b1_clients: usize,
    /// B1: conversations written into.
    #[arg(long, default_value_t = 200)]
    b1_conversations: usize,
    /// B1: seconds per phase.
    #[arg(long)]
    b1_seconds: Option<u64>,
    /// B2: conversations seeded.
    #[arg(long)]
    b2_conversations: Option<usize>,
    /// B2: messages seeded.
    #[arg(long)]
    b2_messages: Option<usize>,
    /// B2: concurrent clients.
    #[arg(long, default_value_t = 8)]
    b2_clients: usize,
    /// B2: seconds per filter and phase.
    #[arg(long, default_value_t = 3)]
    b2_seconds: u64,
    /// B3: sockets.
    #[arg(long)]
    b3_sockets: Option<usize>,
    /// B3: accounts the sockets are spread over (each event reaches sockets / accounts).
    #[arg(long, default_value_t = 10)]
    b3_accounts: usize,
    /// B3: events per second.
    #[arg(long, default_value_t = 100)]
    b3_rate: u64,
    /// B3: seconds of events.
    #[arg(long, default_value_t = 10)]
    b3_seconds: u64,
    /// B4: conversations arriving in the burst.
    #[arg(long)]
    b4_conversations: Option<usize>,
    /// B4: available agents in the queue.
    #[arg(long)]
    b4_agents: Option<usize>,
    /// B4: each agent's capacity.
    #[arg(long, default_value_t = 5)]
    b4_capacity: u32,
    /// B4: concurrent arrivals.
    #[arg(long, default_value_t = 32)]
    b4_clients: usize,
    /// B5: measured starts.
    #[arg(long, default_value_t = 5)]
    b5_runs: usize,
    /// B6: conversations seeded over a year.
    #[arg(long)]
    b6_conversations: Option<usize>,
    /// B6: reports measured.
    #[arg(long, default_value_t = 50)]
    b6_requests: usize,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// (internal) The bare websocket broadcast B3 compares with.
    #[command(hide = true)]
    WsBaseline {
        /// Broadcast groups.
        #[arg(long, default_value_t = 10)]
        groups: usize,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::WsBaseline { groups }) = cli.command {
        return match inbox_bench::ws_baseline::serve(groups).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("ws-baseline: {error}");
                ExitCode::FAILURE
            }
        };
    }
    let options = match options(&cli) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("inbox-bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    match inbox_bench::run(&options).await {
        Ok(report) => {
            println!("{}", report.markdown());
            if let Err(error) = report.write(&options.work_dir) {
                eprintln!("inbox-bench: cannot write the results: {error}");
                return ExitCode::FAILURE;
            }
            eprintln!(
                "results written to {}/results.{{json,md}}",
                options.work_dir.display()
            );
            if report.failures().is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("inbox-bench: {error}");
            ExitCode::FAILURE
        }
    }
}

fn options(cli: &Cli) -> Result<Options, String> {
    let bench_bin = std::env::current_exe().map_err(|e| e.to_string())?;
    let server_bin = cli.server_bin.clone().or_else(|| {
        let sibling = bench_bin.with_file_name("inbox-server");
        sibling.exists().then_some(sibling)
    });
    let stores = match cli.store {
        Store::Sqlite => vec![StoreKind::Sqlite],
        Store::Postgres => vec![StoreKind::Postgres],
        Store::Both => vec![StoreKind::Sqlite, StoreKind::Postgres],
    };
    if stores.contains(&StoreKind::Postgres) && cli.postgres_url.is_none() {
        return Err("PostgreSQL needs --postgres-url (or INBOX_BENCH_POSTGRES_URL), a database the tool may empty; or pass --store sqlite".into());
    }
    let full = cli.full;
    Ok(Options {
        stores,
        scenarios: cli
            .scenarios
            .iter()
            .map(|s| match s {
                Which::B1 => Scenario::B1,
                Which::B2 => Scenario::B2,
                Which::B3 => Scenario::B3,
                Which::B4 => Scenario::B4,
                Which::B5 => Scenario::B5,
                Which::B6 => Scenario::B6,
            })
            .collect(),
        postgres_url: cli.postgres_url.clone(),
        work_dir: cli.work_dir.clone(),
        server_bin,
        in_process: cli.in_process,
        bench_bin,
        b1: B1Options {
            clients: cli.b1_clients,
            conversations: cli.b1_conversations,
            duration: Duration::from_secs(cli.b1_seconds.unwrap_or(if full { 30 } else { 10 })),
        },
        b2: B2Options {
            conversations: cli
                .b2_conversations
                .unwrap_or(if full { 1_000_000 } else { 20_000 }),
            messages: cli
                .b2_messages
                .unwrap_or(if full { 10_000_000 } else { 200_000 }),
            clients: cli.b2_clients,
            duration: Duration::from_secs(cli.b2_seconds),
        },
        b3: B3Options {
            sockets: cli.b3_sockets.unwrap_or(if full { 10_000 } else { 1_000 }),
            accounts: cli.b3_accounts,
            rate: cli.b3_rate,
            duration: Duration::from_secs(cli.b3_seconds),
        },
        b4: B4Options {
            conversations: cli
                .b4_conversations
                .unwrap_or(if full { 10_000 } else { 2_000 }),
            agents: cli.b4_agents.unwrap_or(if full { 200 } else { 40 }),
            capacity: cli.b4_capacity,
            clients: cli.b4_clients,
        },
        b5: B5Options {
            runs: cli.b5_runs,
            idle: Duration::from_secs(1),
        },
        b6: B6Options {
            conversations: cli
                .b6_conversations
                .unwrap_or(if full { 500_000 } else { 20_000 }),
            requests: cli.b6_requests,
        },
        wipe_postgres: true,
        run_id: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        progress: true,
    })
}
