//! The server under test: the `inbox-server` binary started as a child process (the honest way
//! to measure its start-up and memory), or the same router served in-process on a random port
//! (what the smoke test uses, so that it needs no separately built binary).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use inbox_app::system::{SystemClock, UuidV7Ids};
use inbox_app::{App, AppConfig};
use serde_json::json;

use crate::BenchResult;
use crate::stats::resident_mb;
use crate::target::Target;

/// The password of every owner the tool creates.
pub const PASSWORD: &str = "bench-password-1";

/// How the server under test runs.
#[derive(Clone, Debug)]
pub enum ServerMode {
    /// The `inbox-server` binary at this path, as a child process.
    Process(PathBuf),
    /// The router served by a task of this process.
    InProcess,
}

/// A running server.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The child's process id.
    pub pid: Option<u32>,
    /// From the spawn (or the store's opening) until `/readyz` answered 200.
    pub ready_in: Duration,
    log: PathBuf,
    child: Option<tokio::process::Child>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Starts a server on the target's database; on a new database it creates the owner
    /// `owner_email` with [`PASSWORD`].
    ///
    /// # Errors
    /// When it does not become ready within a minute.
    pub async fn start(
        mode: &ServerMode,
        target: &Target,
        owner_email: &str,
        db_connections: u32,
        log: &Path,
    ) -> BenchResult<Self> {
        let started = Instant::now();
        let mut server = match mode {
            ServerMode::Process(bin) => {
                let port = free_port()?;
                let log_file = std::fs::File::create(log)?;
                let child = tokio::process::Command::new(bin)
                    .env("INBOX_LISTEN", format!("127.0.0.1:{port}"))
                    .env("INBOX_DATABASE_URL", &target.url)
                    .env("INBOX_OWNER_EMAIL", owner_email)
                    .env("INBOX_OWNER_PASSWORD", PASSWORD)
                    .env("INBOX_DB_CONNECTIONS", db_connections.to_string())
                    .env("INBOX_LOG", "warn")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(log_file)
                    .kill_on_drop(true)
                    .spawn()
                    .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
                Self {
                    base: format!("http://127.0.0.1:{port}"),
                    pid: child.id(),
                    ready_in: Duration::ZERO,
                    log: log.to_path_buf(),
                    child: Some(child),
                    task: None,
                }
            }
            ServerMode::InProcess => {
                let store = target.open(db_connections).await?;
                let app = App::new(
                    Arc::new(store),
                    Arc::new(SystemClock::default()),
                    Arc::new(UuidV7Ids),
                    AppConfig::default(),
                );
                app.bootstrap(owner_email, Some(PASSWORD)).await?;
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let base = format!("http://{}", listener.local_addr()?);
                let router = inbox_http::router(app);
                let task = tokio::spawn(async move {
                    let _ = axum::serve(
                        listener,
                        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
                    )
                    .await;
                });
                Self {
                    base,
                    pid: None,
                    ready_in: Duration::ZERO,
                    log: log.to_path_buf(),
                    child: None,
                    task: Some(task),
                }
            }
        };
        server.wait_ready(started).await?;
        Ok(server)
    }

    async fn wait_ready(&mut self, started: Instant) -> BenchResult<()> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let url = format!("{}/readyz", self.base);
        loop {
            if let Ok(response) = http.get(&url).send().await
                && response.status().is_success()
            {
                self.ready_in = started.elapsed();
                return Ok(());
            }
            if let Some(child) = &mut self.child
                && let Some(status) = child.try_wait()?
            {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                return Err(format!(
                    "the server exited before it was ready: {status}; its log ({}) ends with: {}",
                    self.log.display(),
                    tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
                )
                .into());
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err("the server was not ready within 60 s".into());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Its resident memory in MB (a child process only).
    #[must_use]
    pub fn resident_mb(&self) -> Option<f64> {
        self.pid.and_then(resident_mb)
    }

    /// Stops it: SIGTERM and a wait for a child, abort for a task.
    pub async fn stop(mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                let _ = tokio::process::Command::new("kill")
                    .arg("-TERM")
                    .arg(pid.to_string())
                    .status()
                    .await;
            }
            if tokio::time::timeout(Duration::from_secs(10), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A port free at the time of asking.
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Signs in and returns the bearer token.
///
/// # Errors
/// When the server refuses.
pub async fn sign_in(base: &str, email: &str) -> BenchResult<String> {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/sign-in"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await?;
    let status = response.status();
    let body: serde_json::Value = response.json().await?;
    body["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("sign-in of {email} refused: {status} {body}").into())
}
