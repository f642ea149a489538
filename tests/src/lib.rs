//! `inbox-tests`: the workspace's end-to-end test package.
//!
//! Its tests live in `tests/tests/*.rs`, one file per flow, and drive the product the way its
//! users do: the real router served over a TCP socket on a random port ([`spawn`]), real HTTP
//! and websockets, against SQLite and PostgreSQL (the [`e2e!`] macro writes each test for both).
//! Each server starts on a fresh account (its own owner), so tests share a PostgreSQL database
//! without seeing each other. Helpers shared by several test files live here.

use std::sync::Arc;

use conversation_core::ports::{Clock, ManualClock};
use inbox_app::delivery::DeliveryWorker;
use inbox_app::system::{SystemClock, UuidV7Ids};
use inbox_app::webhooks::worker::WebhookWorker;
use inbox_app::worker::TimerWorker;
use inbox_app::{App, AppConfig};
use inbox_store::{SqlStore, StoreOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Which database a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    /// Embedded SQLite in a temporary directory.
    Sqlite,
    /// PostgreSQL from `INBOX_TEST_POSTGRES_URL`.
    Postgres,
}

/// A running server and an HTTP client signed in as its owner.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The HTTP client.
    pub http: reqwest::Client,
    /// The owner's bearer token.
    pub owner: String,
    /// The owner's email.
    pub owner_email: String,
    /// The use cases behind the server (to arrange what the API cannot yet, such as inbound
    /// channel messages).
    pub app: App,
    /// The clock of the server: the system's, or a manual one ([`spawn_manual`]).
    pub clock: Option<Arc<ManualClock>>,
    /// Which database it runs on.
    pub backend: Backend,
    serve: tokio::task::JoinHandle<()>,
    doorbell: Option<tokio::task::JoinHandle<()>>,
    dir: Option<Arc<tempfile::TempDir>>,
}

/// The owner's password in every test server.
pub const OWNER_PASSWORD: &str = "owner-password-1";

/// The password of the agents and other owners tests create.
pub const AGENT_PASSWORD: &str = "agent-password-1";

/// Opens the backend.
///
/// # Panics
/// When the database cannot be opened, or `INBOX_TEST_POSTGRES_URL` is missing for PostgreSQL.
pub async fn open_store(backend: Backend) -> (SqlStore, Option<tempfile::TempDir>) {
    let options = store_options();
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            (
                SqlStore::open_data_dir(dir.path(), options)
                    .await
                    .expect("SQLite opens"),
                Some(dir),
            )
        }
        Backend::Postgres => {
            let url = std::env::var("INBOX_TEST_POSTGRES_URL").unwrap_or_else(|_| {
                panic!(
                    "INBOX_TEST_POSTGRES_URL is not set: run the suite with ./scripts/test, which \
                     starts PostgreSQL, or set it to postgres://user:password@host:port/db"
                )
            });
            (
                SqlStore::open(&url, options)
                    .await
                    .expect("PostgreSQL opens"),
                None,
            )
        }
    }
}

fn store_options() -> StoreOptions {
    StoreOptions {
        max_connections: 8,
        ..StoreOptions::default()
    }
}

/// Starts the real router on a random port, with a fresh account and its owner signed in.
///
/// # Panics
/// When anything in the set-up fails.
pub async fn spawn(backend: Backend) -> TestServer {
    let (store, dir) = open_store(backend).await;
    serve(backend, store, dir.map(Arc::new), None, None).await
}

/// As [`spawn`], on a manual clock standing at the system's time: timers fire only when the test
/// moves the clock and runs the worker ([`TestServer::run_timers`]).
///
/// # Panics
/// When anything in the set-up fails.
pub async fn spawn_manual(backend: Backend) -> TestServer {
    let (store, dir) = open_store(backend).await;
    let clock = Arc::new(ManualClock::new(SystemClock::default().now()));
    serve(backend, store, dir.map(Arc::new), Some(clock), None).await
}

/// Serves the router over `store`; a new account unless `owner_email` names an existing one.
async fn serve(
    backend: Backend,
    store: SqlStore,
    dir: Option<Arc<tempfile::TempDir>>,
    clock: Option<Arc<ManualClock>>,
    owner_email: Option<String>,
) -> TestServer {
    let app_clock: Arc<dyn Clock> = match &clock {
        Some(clock) => clock.clone(),
        None => Arc::new(SystemClock::default()),
    };
    let app = App::new(
        Arc::new(store),
        Arc::clone(&app_clock),
        Arc::new(UuidV7Ids),
        AppConfig::default(),
    )
    .with_adapters(inbox_channels::adapters(
        &inbox_channels::ClientSettings::default(),
        &app_clock,
    ))
    .with_webhook_poster(inbox_channels::webhook_poster(
        &inbox_channels::ClientSettings::default(),
    ));
    let owner_email = match owner_email {
        Some(email) => email,
        None => {
            let email = format!("owner-{}@example.test", uuid::Uuid::new_v4());
            app.bootstrap(&email, Some(OWNER_PASSWORD))
                .await
                .expect("bootstrap")
                .expect("a new account");
            email
        }
    };
    // N1 across processes (PostgreSQL): listening before the router serves.
    let doorbell = app.start_doorbell().await.expect("the doorbell listens");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let router = inbox_http::router(app.clone());
    let serve = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .expect("serves");
    });
    let http = reqwest::Client::new();
    let mut server = TestServer {
        base,
        http,
        owner: String::new(),
        owner_email: owner_email.clone(),
        app,
        clock,
        backend,
        serve,
        doorbell,
        dir,
    };
    let (status, body) = server
        .post(
            "/api/v1/auth/sign-in",
            None,
            &json!({"email": owner_email, "password": OWNER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "owner signs in: {body}");
    server.owner = body["token"].as_str().expect("token").to_owned();
    server
}

impl TestServer {
    /// Another server process on the same database and account, with its own connections,
    /// hub and timer worker, on the same clock (PostgreSQL: several processes share it).
    ///
    /// # Panics
    /// When the set-up fails.
    pub async fn another_process(&self) -> Self {
        let store = self.reopen_store().await;
        serve(
            self.backend,
            store,
            self.dir.clone(),
            self.clock.clone(),
            Some(self.owner_email.clone()),
        )
        .await
    }

    /// Stops this server (its router and every connection it holds) and starts a new one on
    /// the same database and clock, as after a restart of the process.
    ///
    /// # Panics
    /// When the set-up fails.
    pub async fn restart(self) -> Self {
        self.serve.abort();
        let _ = (&mut { self.serve }).await;
        if let Some(doorbell) = self.doorbell {
            doorbell.abort();
        }
        let (backend, dir, clock, email) = (self.backend, self.dir, self.clock, self.owner_email);
        drop(self.app);
        let store = match (&dir, backend) {
            (Some(dir), Backend::Sqlite) => SqlStore::open_data_dir(dir.path(), store_options())
                .await
                .expect("SQLite opens again"),
            _ => open_store(backend).await.0,
        };
        serve(backend, store, dir, clock, Some(email)).await
    }

    async fn reopen_store(&self) -> SqlStore {
        match (&self.dir, self.backend) {
            (Some(dir), Backend::Sqlite) => SqlStore::open_data_dir(dir.path(), store_options())
                .await
                .expect("SQLite opens again"),
            _ => open_store(self.backend).await.0,
        }
    }

    /// The manual clock.
    ///
    /// # Panics
    /// When the server runs on the system clock.
    pub fn manual_clock(&self) -> &ManualClock {
        self.clock.as_deref().expect("a server of spawn_manual")
    }

    /// Moves the manual clock forward by `secs` seconds.
    pub fn advance(&self, secs: i64) {
        self.manual_clock().advance(chrono::Duration::seconds(secs));
    }

    /// Runs this server's timer worker once: fires every timer of its account due now (other
    /// tests' timers in a shared database run on their own clocks); returns how many.
    ///
    /// # Panics
    /// When the worker cannot claim timers.
    pub async fn run_timers(&self) -> usize {
        let account = self.account().await;
        TimerWorker::for_account(self.app.clone(), format!("test-{}", self.base), account)
            .run_once()
            .await
            .expect("timers run")
    }
}

impl TestServer {
    /// Runs this server's delivery worker once (H3, M5): works every due delivery and unsend
    /// of its account; returns how many rows it worked.
    ///
    /// # Panics
    /// When the worker cannot claim its work.
    pub async fn run_deliveries(&self) -> usize {
        let account = self.account().await;
        DeliveryWorker::for_account(
            self.app.clone(),
            format!("test-delivery-{}", self.base),
            account,
        )
        .run_once()
        .await
        .expect("deliveries run")
    }

    /// Runs this server's webhook worker once (N5): fans out its account's new events and
    /// sends every due delivery; returns how many outbox rows it worked.
    ///
    /// # Panics
    /// When the worker fails on storage.
    pub async fn run_webhooks(&self) -> usize {
        let account = self.account().await;
        WebhookWorker::for_account(
            self.app.clone(),
            format!("test-webhooks-{}", self.base),
            account,
        )
        .run_once()
        .await
        .expect("webhooks run")
    }
}

impl TestServer {
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    /// GET with an optional bearer token.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.send(self.http.get(format!("{}{path}", self.base)), token)
            .await
    }

    /// POST a JSON body with an optional bearer token.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        self.send(
            self.http.post(format!("{}{path}", self.base)).json(body),
            token,
        )
        .await
    }

    /// PATCH a JSON body with an optional bearer token.
    pub async fn patch(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> (StatusCode, Value) {
        self.send(
            self.http.patch(format!("{}{path}", self.base)).json(body),
            token,
        )
        .await
    }

    /// PUT a JSON body with an optional bearer token.
    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        self.send(
            self.http.put(format!("{}{path}", self.base)).json(body),
            token,
        )
        .await
    }

    /// DELETE with an optional bearer token.
    pub async fn delete(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.send(self.http.delete(format!("{}{path}", self.base)), token)
            .await
    }
}

impl TestServer {
    /// Signs in with an email and a password and returns the bearer token.
    ///
    /// # Panics
    /// When the credentials are refused.
    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/auth/sign-in",
                None,
                &serde_json::json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().expect("a token").to_owned()
    }

    /// A new plain agent of the owner's account, signed in: their view and their token.
    ///
    /// # Panics
    /// When the owner may not create them.
    pub async fn new_agent(&self, name: &str) -> (Value, String) {
        let email = format!("agent-{}@example.test", uuid::Uuid::new_v4());
        let (status, agent) = self
            .post(
                "/api/v1/agents",
                Some(&self.owner),
                &serde_json::json!({"name": name, "email": email, "password": AGENT_PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{agent}");
        let token = self.sign_in(&email, AGENT_PASSWORD).await;
        (agent, token)
    }

    /// A new API token of the account of `admin` (an integration's token).
    ///
    /// # Panics
    /// When `admin` may not create one.
    pub async fn api_token(&self, admin: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/api-tokens",
                Some(admin),
                &serde_json::json!({"name": "bot flow"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().expect("a token").to_owned()
    }

    /// The owner's account.
    ///
    /// # Panics
    /// When the owner's token no longer works.
    pub async fn account(&self) -> conversation_core::ids::AccountId {
        self.app
            .authenticate(&self.owner)
            .await
            .expect("owner token")
            .account()
    }

    /// A new inbox of the owner's account on this channel, routing to `queue`.
    pub async fn inbox(
        &self,
        channel: conversation_core::channel::ChannelKind,
        queue: Option<conversation_core::ids::QueueId>,
    ) -> conversation_core::entities::Inbox {
        self.inbox_in(self.account().await, channel, queue).await
    }

    /// A new inbox of `account` on this channel, routing to `queue`.
    ///
    /// # Panics
    /// When the store refuses it.
    pub async fn inbox_in(
        &self,
        account: conversation_core::ids::AccountId,
        channel: conversation_core::channel::ChannelKind,
        queue: Option<conversation_core::ids::QueueId>,
    ) -> conversation_core::entities::Inbox {
        let inbox = conversation_core::entities::Inbox {
            id: conversation_core::ids::InboxId::from_uuid(uuid::Uuid::new_v4()),
            account,
            name: "Test inbox".into(),
            channel,
            queue,
            settings: conversation_core::entities::InboxSettings::default(),
        };
        self.app
            .store()
            .save_inbox(&inbox)
            .await
            .expect("inbox saved");
        inbox
    }

    /// S1: the bearer token of the owner of a new, other account on the same server and store.
    ///
    /// # Panics
    /// When the account cannot be made or its owner cannot sign in.
    pub async fn stranger(&self) -> String {
        let email = format!("stranger-{}@example.test", uuid::Uuid::new_v4());
        self.app
            .bootstrap(&email, Some(OWNER_PASSWORD))
            .await
            .expect("bootstrap")
            .expect("a new account");
        self.sign_in(&email, OWNER_PASSWORD).await
    }

    /// A new contact of the owner's account.
    pub async fn contact(&self) -> conversation_core::ids::ContactId {
        self.contact_in(self.account().await).await
    }

    /// A new contact of `account`.
    ///
    /// # Panics
    /// When the store refuses it.
    pub async fn contact_in(
        &self,
        account: conversation_core::ids::AccountId,
    ) -> conversation_core::ids::ContactId {
        let contact = conversation_core::entities::Contact {
            id: conversation_core::ids::ContactId::from_uuid(uuid::Uuid::new_v4()),
            account,
            name: Some("Test contact".into()),
            email: None,
            phone: None,
            location: None,
            notes: String::new(),
            attributes: std::collections::BTreeMap::new(),
            responsible_agent: None,
            identities: Vec::new(),
            merged_into: None,
            created_at: self.app.now(),
        };
        self.app
            .store()
            .save_contact(&contact)
            .await
            .expect("contact saved");
        contact.id
    }

    /// The contact writes `text` on the inbox (as a channel would deliver it).
    ///
    /// # Panics
    /// When the message is not stored.
    pub async fn inbound(
        &self,
        inbox: &conversation_core::entities::Inbox,
        contact: conversation_core::ids::ContactId,
        text: &str,
        external_id: Option<&str>,
    ) -> inbox_app::Received {
        self.app
            .receive_inbound(
                inbox,
                contact,
                inbox_app::Inbound {
                    kind: conversation_core::message::MessageKind::Text,
                    body: text.into(),
                    attachment: None,
                    external_id: external_id.map(str::to_owned),
                    client_id: None,
                },
            )
            .await
            .expect("inbound stored")
    }
}

/// Defines an end-to-end test on a manual clock, run on both backends:
/// `e2e_manual!(name, |server| async move { ... })`.
#[macro_export]
macro_rules! e2e_manual {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports, reason = "each test uses a different part")]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let server = $crate::spawn_manual($crate::Backend::Sqlite).await;
                ($body)(server).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let server = $crate::spawn_manual($crate::Backend::Postgres).await;
                ($body)(server).await;
            }
        }
    };
}

/// Defines an end-to-end test run on both backends: `e2e!(name, |server| async move { ... })`.
#[macro_export]
macro_rules! e2e {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports, reason = "each test uses a different part")]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let server = $crate::spawn($crate::Backend::Sqlite).await;
                ($body)(server).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let server = $crate::spawn($crate::Backend::Postgres).await;
                ($body)(server).await;
            }
        }
    };
}
