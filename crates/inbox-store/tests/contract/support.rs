//! Fixtures of the contract suite: opening each backend, a fresh account per test, and rows
//! inserted with plain SQL so that each role trait is tested on its own.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use conversation_core::DomainEvent;
use conversation_core::Timestamp;
use conversation_core::actor::Actor;
use conversation_core::channel::ChannelKind;
use conversation_core::conversation::{Conversation, LoadChange, StartConversation};
use conversation_core::ids::{
    AccountId, AgentId, ContactId, ConversationId, InboxId, MessageId, QueueId,
};
use conversation_core::message::{Direction, Message, MessageKind, MessageOrigin, NewMessage};
use conversation_core::ports::{
    AggregateChange, AggregateState, Commit, CommitReceipt, CommitStore, ExpectedVersion,
};
use inbox_store::sql::{Arg, Db};
use inbox_store::{SqlStore, StoreOptions};
use uuid::Uuid;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A store on a fresh account.
pub struct Fixture {
    pub store: Arc<SqlStore>,
    pub account: AccountId,
    /// Keeps the SQLite file's directory alive for the test.
    _dir: Option<tempfile::TempDir>,
}

/// A new random id.
pub fn id() -> Uuid {
    Uuid::new_v4()
}

/// A fixed time plus `secs` seconds (whole microseconds, as stores keep them).
pub fn t(secs: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 4, 1, 10, 0, 0).unwrap() + Duration::seconds(secs)
}

/// Opens the backend and creates a fresh account in it.
pub async fn fixture(backend: Backend) -> Fixture {
    let options = StoreOptions {
        max_connections: 12,
        ..StoreOptions::default()
    };
    let (store, dir) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let store = SqlStore::open_data_dir(dir.path(), options)
                .await
                .expect("SQLite opens");
            (store, Some(dir))
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
    };
    let account = AccountId::from_uuid(id());
    exec(
        store.db(),
        "INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)",
        vec![account.into(), "Test account".into(), t(0).into()],
    )
    .await;
    Fixture {
        store: Arc::new(store),
        account,
        _dir: dir,
    }
}

/// A test body is `|fx| async move { ... }`, and a closure or async block captures only the
/// fields it uses (RFC 2229): without this `Drop`, the SQLite directory would be deleted as soon
/// as the body starts, and every connection opened after that (a second reader) would fail with
/// "unable to open database file". A type with `Drop` is captured whole, so the directory lives
/// until the test ends.
impl Drop for Fixture {
    fn drop(&mut self) {}
}

/// Runs one statement, panicking on failure (fixtures only).
pub async fn exec(db: &Db, sql: &str, args: Vec<Arg>) {
    db.execute(sql, &args)
        .await
        .unwrap_or_else(|e| panic!("fixture statement failed: {e}: {sql}"));
}

impl Fixture {
    /// An agent with this capacity, available since t(0), no load.
    pub async fn agent(&self, capacity: u32) -> AgentId {
        let agent = AgentId::from_uuid(id());
        exec(
            self.store.db(),
            "INSERT INTO agents (id, account_id, name, email, email_key, role, full_access, permissions, \
             capacity, experience_level, cost_tier, availability, availability_since) \
             VALUES ($1, $2, $3, $4, $5, 'agent', $6, '[]', $7, 1, 1, 'available', $8)",
            vec![
                agent.into(),
                self.account.into(),
                format!("Agent {agent}").into(),
                format!("{agent}@example.test").into(),
                format!("{agent}@example.test").into(),
                false.into(),
                capacity.into(),
                t(0).into(),
            ],
        )
        .await;
        agent
    }

    /// A queue with these members (least loaded, direct).
    pub async fn queue(&self, members: &[AgentId]) -> QueueId {
        let queue = QueueId::from_uuid(id());
        exec(
            self.store.db(),
            "INSERT INTO queues (id, account_id, name, strategy, delivery, offer_timeout_secs) \
             VALUES ($1, $2, 'Support', 'least_loaded', 'direct', 30)",
            vec![queue.into(), self.account.into()],
        )
        .await;
        for (position, agent) in members.iter().enumerate() {
            exec(
                self.store.db(),
                "INSERT INTO queue_members (queue_id, agent_id, position) VALUES ($1, $2, $3)",
                vec![
                    queue.into(),
                    (*agent).into(),
                    i64::try_from(position).unwrap().into(),
                ],
            )
            .await;
        }
        queue
    }

    /// A web-chat inbox routing to `queue`.
    pub async fn inbox(&self, queue: Option<QueueId>) -> InboxId {
        let inbox = InboxId::from_uuid(id());
        exec(
            self.store.db(),
            "INSERT INTO inboxes (id, account_id, name, channel, queue_id, settings) VALUES ($1, $2, 'Web', 'web_chat', $3, $4)",
            vec![
                inbox.into(),
                self.account.into(),
                queue.into(),
                serde_json::to_string(&conversation_core::entities::InboxSettings::default()).unwrap().into(),
            ],
        )
        .await;
        inbox
    }

    /// A contact.
    pub async fn contact(&self) -> ContactId {
        let contact = ContactId::from_uuid(id());
        let value = conversation_core::entities::Contact {
            id: contact,
            account: self.account,
            name: Some("Visitor".into()),
            email: None,
            phone: None,
            location: None,
            notes: String::new(),
            attributes: Default::default(),
            responsible_agent: None,
            identities: Vec::new(),
            merged_into: None,
            created_at: t(0),
        };
        exec(
            self.store.db(),
            "INSERT INTO contacts (id, account_id, created_at, state) VALUES ($1, $2, $3, $4)",
            vec![
                contact.into(),
                self.account.into(),
                t(0).into(),
                serde_json::to_string(&value).unwrap().into(),
            ],
        )
        .await;
        contact
    }

    /// The commit that starts a conversation with its first inbound message, as a use case
    /// builds it (not yet written).
    pub fn start_commit(
        &self,
        inbox: InboxId,
        contact: ContactId,
        queue: Option<QueueId>,
        external_id: Option<&str>,
        at: Timestamp,
    ) -> (Commit, Conversation) {
        let conversation = ConversationId::from_uuid(id());
        let message = MessageId::from_uuid(id());
        let start = StartConversation {
            id: conversation,
            account: self.account,
            inbox,
            channel: ChannelKind::WebChat,
            contact,
            message,
            queue,
            bot_flow: None,
        };
        let events = Conversation::decide_start(&start, at);
        let state = Conversation::replay(&events).unwrap();
        let mut commit = Commit::new(self.account);
        commit.changes.push(AggregateChange {
            expected: ExpectedVersion::New,
            state: AggregateState::Conversation {
                conversation: Box::new(state.clone()),
                load: LoadChange::default(),
            },
            events: events.into_iter().map(DomainEvent::Conversation).collect(),
        });
        commit
            .messages
            .push(self.inbound(conversation, message, "hello", external_id, None, at));
        (commit, state)
    }

    /// An inbound text message.
    pub fn inbound(
        &self,
        conversation: ConversationId,
        message: MessageId,
        body: &str,
        external_id: Option<&str>,
        client_id: Option<&str>,
        at: Timestamp,
    ) -> Message {
        let origin = MessageOrigin {
            id: message,
            account: self.account,
            conversation,
            dialog: None,
            sequence: 0,
        };
        let new = NewMessage {
            kind: MessageKind::Text,
            direction: Direction::Inbound,
            sender: Actor::Contact(ContactId::from_uuid(id())),
            body: body.into(),
            quote: None,
            attachment: None,
            client_id: client_id.map(str::to_owned),
            external_id: external_id.map(str::to_owned),
        };
        Message::create(origin, new, at).expect("valid message")
    }

    /// Starts a conversation (committed); returns it.
    pub async fn start(
        &self,
        inbox: InboxId,
        contact: ContactId,
        queue: Option<QueueId>,
    ) -> (Conversation, CommitReceipt) {
        let (commit, state) = self.start_commit(inbox, contact, queue, None, t(1));
        let receipt = self
            .store
            .commit(commit)
            .await
            .expect("conversation starts");
        (state, receipt)
    }

    /// The agent's stored load.
    pub async fn load_of(&self, agent: AgentId) -> i64 {
        let row = self
            .store
            .db()
            .fetch_optional("SELECT load FROM agents WHERE id = $1", &[agent.into()])
            .await
            .unwrap()
            .expect("agent exists");
        row.int("load").unwrap()
    }
}

/// Defines a contract test run on both backends: `contract!(name, |fx| async move { ... })`.
macro_rules! contract {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports, reason = "each test uses a different part")]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let fx = $crate::support::fixture($crate::support::Backend::Sqlite).await;
                ($body)(fx).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let fx = $crate::support::fixture($crate::support::Backend::Postgres).await;
                ($body)(fx).await;
            }
        }
    };
}
pub(crate) use contract;
