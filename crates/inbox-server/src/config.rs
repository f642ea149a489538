//! Configuration: command-line flags, each with an environment fallback, and defaults that make
//! a bare start work (SQLite under `./data`, listening on 127.0.0.1:8080).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// How logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, for collectors.
    Json,
    /// Human-readable lines.
    Text,
}

/// The inbox server.
#[derive(Clone, Parser)]
#[command(
    name = "inbox-server",
    version,
    about = "The customer-support inbox server"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "INBOX_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Database URL: postgres://user:password@host/db, or sqlite:path. Default: SQLite in the
    /// data directory.
    #[arg(long, env = "INBOX_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Directory of the embedded SQLite database (created on first start).
    #[arg(long, env = "INBOX_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Email of the owner created on first start.
    #[arg(long, env = "INBOX_OWNER_EMAIL", default_value = "owner@inbox.local")]
    pub owner_email: String,

    /// Password of the owner created on first start; generated and printed once if not given.
    #[arg(long, env = "INBOX_OWNER_PASSWORD", hide_env_values = true)]
    pub owner_password: Option<String>,

    /// Database connections (PostgreSQL pool, or SQLite readers).
    #[arg(long, env = "INBOX_DB_CONNECTIONS", default_value_t = 16)]
    pub db_connections: u32,

    /// How often the timer worker looks for due timers (R6 offer timeouts, R11 grace periods,
    /// C8 reply targets, D11 reminders), in milliseconds.
    #[arg(long, env = "INBOX_TIMER_INTERVAL_MS", default_value_t = 1000)]
    pub timer_interval_ms: u64,

    /// H3, M5, N5: how often the outbound queue looks for due deliveries, unsends and
    /// webhooks, in milliseconds.
    #[arg(long, env = "INBOX_DELIVERY_INTERVAL_MS", default_value_t = 500)]
    pub delivery_interval_ms: u64,

    /// P1, D15: how often the report worker folds new events into the report rollups, in
    /// seconds (a report still folds what came since, so it is always current).
    #[arg(long, env = "INBOX_REPORTS_INTERVAL_SECS", default_value_t = 60)]
    pub reports_interval_secs: u64,

    /// H3: the channel adapters' HTTP timeout, in seconds (kept below the queue's lease).
    #[arg(long, env = "INBOX_CHANNEL_TIMEOUT_SECS", default_value_t = 20)]
    pub channel_timeout_secs: u64,

    /// W3: the server runs behind a reverse proxy that appends the client's address to
    /// `X-Forwarded-For`; the widget's per-address limits then count that address (the last
    /// entry). Leave it off when clients reach the server directly, or they could pick their
    /// own address.
    #[arg(long, env = "INBOX_TRUSTED_PROXY", default_value_t = false)]
    pub trusted_proxy: bool,

    /// N3, D11: the SMTP server staff notification emails go through:
    /// `smtp://user:password@host:587?tls=starttls` (`tls`: `starttls`, the default, `tls` or
    /// `none`; user and password percent-encoded). Unset: no notification email is sent.
    #[arg(long, env = "INBOX_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// N3, D11: the address notification emails come from (required with `INBOX_SMTP_URL`).
    #[arg(long, env = "INBOX_SMTP_FROM")]
    pub smtp_from: Option<String>,

    /// N4: the base URL of the Twilio-compatible SMS gateway (default: Twilio's API).
    #[arg(long, env = "INBOX_SMS_URL")]
    pub sms_url: Option<String>,

    /// N4: the SMS gateway's account SID. Unset: no staff text is sent.
    #[arg(long, env = "INBOX_SMS_ACCOUNT_SID")]
    pub sms_account_sid: Option<String>,

    /// N4: the SMS gateway's auth token (required with `INBOX_SMS_ACCOUNT_SID`).
    #[arg(long, env = "INBOX_SMS_AUTH_TOKEN", hide_env_values = true)]
    pub sms_auth_token: Option<String>,

    /// N4: who staff texts come from: an E.164 number (`+14155550100`) or a messaging service
    /// SID (`MG...`) (required with `INBOX_SMS_ACCOUNT_SID`).
    #[arg(long, env = "INBOX_SMS_FROM")]
    pub sms_from: Option<String>,

    /// Log format.
    #[arg(long, env = "INBOX_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}
