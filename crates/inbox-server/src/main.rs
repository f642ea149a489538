//! `inbox-server`: the binary operators deploy.
//!
//! What belongs here: reading the configuration, choosing the store from the database URL
//! (embedded SQLite by default, PostgreSQL for `postgres://`), applying migrations, creating the
//! owner on first start, wiring the use cases to the HTTP router, running the timer, delivery,
//! webhook and notification workers, and serving until SIGTERM or Ctrl-C, finishing the
//! requests in flight. Nothing else: every rule and use case lives in the library crates.

mod config;
mod notify;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use inbox_app::delivery::DeliveryWorker;
use inbox_app::notifications::sender::NotificationWorker;
use inbox_app::system::{SystemClock, UuidV7Ids};
use inbox_app::webhooks::worker::WebhookWorker;
use inbox_app::worker::TimerWorker;
use inbox_app::{App, AppConfig};
use inbox_store::{SqlStore, StoreOptions};
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    init_logs(config.log_format);
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("inbox-server: {error}");
            ExitCode::FAILURE
        }
    }
}

fn init_logs(format: LogFormat) {
    let filter = EnvFilter::try_from_env("INBOX_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Why the server stopped.
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("{0}")]
    Open(#[from] inbox_store::OpenError),
    #[error("{0}")]
    Settings(String),
    #[error("cannot create the owner on first start: {0}")]
    Bootstrap(inbox_app::AppError),
    #[error("cannot listen to the realtime doorbell: {0}")]
    Doorbell(inbox_app::AppError),
    #[error("cannot listen on {address}: {source}; is another process using it? set INBOX_LISTEN")]
    Listen {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the server failed: {0}")]
    Serve(std::io::Error),
}

async fn run(config: Config) -> Result<(), RunError> {
    let started = Instant::now();
    // N3, N4, D11: the notification settings, refused before anything else starts.
    let notifiers = notify::notifiers(&config).map_err(RunError::Settings)?;
    let options = StoreOptions {
        max_connections: config.db_connections,
        ..StoreOptions::default()
    };
    let store = match &config.database_url {
        Some(url) => SqlStore::open(url, options).await?,
        None => SqlStore::open_data_dir(&config.data_dir, options).await?,
    };
    tracing::info!(dialect = ?store.dialect(), "database ready");
    let clock: Arc<dyn conversation_core::ports::Clock> = Arc::new(SystemClock::default());
    let client_settings = inbox_channels::ClientSettings {
        timeout: Duration::from_secs(channel_timeout_secs(&config)),
        ..inbox_channels::ClientSettings::default()
    };
    let app = App::new(
        Arc::new(store),
        Arc::clone(&clock),
        Arc::new(UuidV7Ids),
        app_config(&config),
    )
    // H1: every channel adapter, sharing one HTTP client.
    .with_adapters(inbox_channels::adapters(&client_settings, &clock))
    .with_webhook_poster(inbox_channels::webhook_poster(&client_settings));
    let app = match notifiers.mailer {
        Some(mailer) => app.with_staff_mailer(mailer),
        None => app,
    };
    let app = match notifiers.texter {
        Some(texter) => app.with_staff_texter(texter),
        None => app,
    };
    if let Some(created) = app
        .bootstrap(&config.owner_email, config.owner_password.as_deref())
        .await
        .map_err(RunError::Bootstrap)?
    {
        tracing::info!(email = %created.email, "first start: created the account and its owner");
        if let Some(password) = created.generated_password {
            println!(
                "First start: sign in as {} with the password {password}",
                created.email
            );
            println!("(shown once; change it with POST /api/v1/me/password)");
        }
    }
    // R6, R9, R11, C8, D11: durable timers, claimed with a lease so that each fires once
    // whatever the number of processes.
    let worker = TimerWorker::new(
        app.clone(),
        format!("inbox-server-{}-{}", std::process::id(), app.new_id()),
    )
    .spawn(Duration::from_millis(config.timer_interval_ms.max(10)));
    // H3, M5: the outbound queue, claimed with a lease: one send per message whatever the
    // number of processes.
    let deliveries = DeliveryWorker::new(
        app.clone(),
        format!("inbox-delivery-{}-{}", std::process::id(), app.new_id()),
    )
    .spawn(Duration::from_millis(config.delivery_interval_ms.max(10)));
    // N5: outgoing webhooks, fanned out from the event log and sent from the outbox.
    let webhooks = WebhookWorker::new(
        app.clone(),
        format!("inbox-webhooks-{}-{}", std::process::id(), app.new_id()),
    )
    .spawn(Duration::from_millis(config.delivery_interval_ms.max(10)));
    // N3, N4, D11: staff notifications (emails, texts), sent from the outbox under a lease.
    let notifications = NotificationWorker::new(
        app.clone(),
        format!(
            "inbox-notifications-{}-{}",
            std::process::id(),
            app.new_id()
        ),
    )
    .spawn(Duration::from_millis(config.delivery_interval_ms.max(10)));
    // P1, D15: reports kept current between reads, so a report folds only the last minute.
    let reports = inbox_app::reports::ReportWorker::new(app.clone())
        .spawn(Duration::from_secs(config.reports_interval_secs.max(1)));
    // N1 across processes: on PostgreSQL, commits of other processes reach this one's sockets.
    let doorbell = app.start_doorbell().await.map_err(RunError::Doorbell)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| RunError::Listen {
            address: config.listen,
            source,
        })?;
    let address = listener.local_addr().map_err(RunError::Serve)?;
    tracing::info!(%address, ready_in_ms = started.elapsed().as_millis(), "listening");
    println!("inbox-server listening on http://{address}");
    axum::serve(
        listener,
        inbox_http::router(app).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await
    .map_err(RunError::Serve)?;
    worker.abort();
    deliveries.abort();
    webhooks.abort();
    notifications.abort();
    reports.abort();
    if let Some(doorbell) = doorbell {
        doorbell.abort();
    }
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// The use cases' settings from the command line.
fn app_config(config: &Config) -> AppConfig {
    let mut app = AppConfig::default();
    app.widget.trusted_proxy = config.trusted_proxy;
    // H3: a claim's rows are sent one after the other; the lease outlasts them all at the
    // channels' HTTP timeout, with a minute to spare.
    let send_secs = u32::try_from(channel_timeout_secs(config)).unwrap_or(60);
    app.delivery.lease_secs = app
        .delivery
        .lease_secs
        .max(send_secs * app.delivery.batch + 60);
    app
}

/// The channels' HTTP timeout, in seconds.
fn channel_timeout_secs(config: &Config) -> u64 {
    config.channel_timeout_secs.clamp(1, 60)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn w3_the_widget_trusts_forwarded_addresses_only_when_told() {
        let direct = Config::try_parse_from(["inbox-server"]).unwrap();
        assert!(!app_config(&direct).widget.trusted_proxy);
        let proxied = Config::try_parse_from(["inbox-server", "--trusted-proxy"]).unwrap();
        assert!(app_config(&proxied).widget.trusted_proxy);
    }

    #[test]
    fn h3_the_delivery_lease_outlasts_a_claims_sends() {
        let slow =
            Config::try_parse_from(["inbox-server", "--channel-timeout-secs", "60"]).unwrap();
        let app = app_config(&slow);
        assert!(app.delivery.lease_secs > 60 * app.delivery.batch);
        let quick = Config::try_parse_from(["inbox-server"]).unwrap();
        let app = app_config(&quick);
        assert!(app.delivery.lease_secs > 20 * app.delivery.batch);
    }
}
