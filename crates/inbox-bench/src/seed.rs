//! Bulk seeding for B2: one account with `conversations` conversations and `messages` messages,
//! written straight into the tables in the shape the store writes them (`inbox-store`'s
//! `commit.rs` and `rows.rs`): the conversation's state JSON next to the list columns derived
//! from it, each message's state JSON with its sequence, the conversation's `message_seq`, and
//! one contact per two conversations. PostgreSQL gets `COPY ... FROM STDIN` (CSV); SQLite gets
//! multi-row `INSERT`s of 500 rows in transactions of one chunk. Rows are generated on a
//! blocking thread while the previous chunk is written.
//!
//! The list counters (`conversation_counts`) are then rebuilt from the rows in one statement
//! (`inbox_store::list_counts::recount`), inside the timed load.
//!
//! What is not written: events (the log is not read by lists; the account's `event_seq` stays
//! 0), dialogs, interrupted conversations (and so `conversation_alerts`), outbox rows and agent
//! loads. The owner, 19 agents, 3 queues and 10 web-chat inboxes are made through the store.
//!
//! The mix: 10 % open, 1 % bot, 1 % dropped, 88 % resolved (closed ones remember a queue and an
//! agent, C9); of the open ones 40 % assigned
//! (spread over the 20 agents, the owner among them), 30 % waiting in a queue, 30 % unassigned
//! without a queue; 60 % of the open ones await a reply. Activity is spread over 90 days.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Instant;

use conversation_core::Timestamp;
use conversation_core::actor::{Actor, Role};
use conversation_core::channel::ChannelKind;
use conversation_core::conversation::{
    Assignment, Conversation, ConversationState, ConversationStatus,
};
use conversation_core::entities::{
    Agent, Availability, Contact, DeliveryMode, Inbox, InboxSettings, Queue, RoutingStrategy,
};
use conversation_core::ids::{
    AccountId, AgentId, ContactId, ConversationId, InboxId, MessageId, QueueId,
};
use conversation_core::message::{Direction, Message, MessageKind};
use conversation_core::ports::last_activity;
use inbox_app::App;
use inbox_store::sql::Db;
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::BenchResult;
use crate::stats::Rng;

/// Conversations per chunk (one transaction or COPY per table).
const CHUNK: usize = 5_000;
/// Rows per multi-row INSERT on SQLite.
const ROWS_PER_INSERT: usize = 500;

/// What the seeded account holds.
#[derive(Clone, Debug)]
pub struct Seeded {
    /// The account.
    pub account: AccountId,
    /// Its owner's email.
    pub owner_email: String,
    /// The owner's agent id.
    pub owner: AgentId,
    /// The queues (the owner is a member of each).
    pub queues: Vec<QueueId>,
    /// Conversations written.
    pub conversations: usize,
    /// Messages written.
    pub messages: usize,
    /// Seconds the bulk load took (without `ANALYZE`).
    pub seconds: f64,
}

/// Seeds the account (see the module doc).
///
/// # Errors
/// When the store refuses.
pub async fn seed(
    app: &App,
    db: &Db,
    run_id: &str,
    conversations: usize,
    messages: usize,
    progress: bool,
) -> BenchResult<Seeded> {
    let owner_email = format!("b2-{run_id}-owner@bench.test");
    let created = app
        .bootstrap(&owner_email, Some(crate::server::PASSWORD))
        .await?
        .ok_or("the B2 database is not fresh")?;
    let account = created.account;
    let owner = app
        .store()
        .agent_by_email(&owner_email)
        .await?
        .ok_or("no owner")?
        .id;
    let mut agents = vec![owner];
    for n in 1..20 {
        let agent = Agent {
            id: AgentId::from_uuid(app.new_id()),
            account,
            name: format!("Agent {n}"),
            email: format!("b2-{run_id}-agent-{n}@bench.test"),
            role: Role::Agent,
            full_access: false,
            permissions: BTreeSet::new(),
            availability: Availability::Offline,
            capacity: 5,
            experience_level: 1,
            cost_tier: 1,
        };
        app.store().save_agent(&agent).await?;
        agents.push(agent.id);
    }
    let mut queues = Vec::new();
    for n in 0..3 {
        let queue = Queue {
            id: QueueId::from_uuid(app.new_id()),
            account,
            name: format!("Queue {n}"),
            strategy: RoutingStrategy::LeastLoaded,
            delivery: DeliveryMode::Direct,
            offer_timeout_secs: 30,
            members: agents.clone(),
        };
        app.store().save_queue(&queue).await?;
        queues.push(queue.id);
    }
    let mut inboxes = Vec::new();
    for n in 0..10 {
        let inbox = Inbox {
            id: InboxId::from_uuid(app.new_id()),
            account,
            name: format!("Web chat {n}"),
            channel: ChannelKind::WebChat,
            queue: Some(queues[n % queues.len()]),
            settings: InboxSettings::default(),
        };
        app.store().save_inbox(&inbox).await?;
        inboxes.push(inbox.id);
    }
    let plan = Plan {
        account,
        agents,
        queues: queues.clone(),
        inboxes,
        now: app.now(),
        conversations,
        per_conversation: (messages / conversations.max(1)).max(1),
    };
    let started = Instant::now();
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Chunk>(2);
    let generator = {
        let plan = plan.clone();
        tokio::task::spawn_blocking(move || {
            let mut first = 0;
            while first < plan.conversations {
                let chunk = plan.chunk(first, (first + CHUNK).min(plan.conversations));
                first += CHUNK;
                if sender.blocking_send(chunk).is_err() {
                    break;
                }
            }
        })
    };
    let (mut done, mut written_messages) = (0, 0);
    while let Some(chunk) = receiver.recv().await {
        written_messages += chunk.messages.len();
        done += chunk.conversations.len();
        write_chunk(db, &chunk).await?;
        if progress {
            let secs = started.elapsed().as_secs_f64();
            eprint!(
                "\rseeding: {done}/{conversations} conversations, {written_messages} messages, {:.0} rows/s   ",
                (done + written_messages) as f64 / secs.max(1e-9)
            );
        }
    }
    generator.await?;
    // The rows went around the commit path: the list counters are rebuilt from them (C9).
    inbox_store::list_counts::recount(db, account).await?;
    let seconds = started.elapsed().as_secs_f64();
    if progress {
        eprintln!();
        eprintln!("seeded in {seconds:.1} s; analyzing");
    }
    match db {
        Db::Postgres(pool) => {
            sqlx::query("VACUUM ANALYZE conversations")
                .execute(pool)
                .await?;
            sqlx::query("VACUUM ANALYZE messages").execute(pool).await?;
            sqlx::query("VACUUM ANALYZE contacts").execute(pool).await?;
        }
        Db::Sqlite { write, .. } => {
            sqlx::query("ANALYZE").execute(write).await?;
        }
    }
    Ok(Seeded {
        account,
        owner_email,
        owner,
        queues,
        conversations: done,
        messages: written_messages,
        seconds,
    })
}

#[derive(Clone, Debug)]
struct Plan {
    account: AccountId,
    agents: Vec<AgentId>,
    queues: Vec<QueueId>,
    inboxes: Vec<InboxId>,
    now: Timestamp,
    conversations: usize,
    per_conversation: usize,
}

/// The rows of some conversations: `(conversation, message_seq)`, contacts, messages.
struct Chunk {
    conversations: Vec<(Conversation, usize)>,
    contacts: Vec<Contact>,
    messages: Vec<Message>,
    /// The inbox of each message's conversation, in the order of `messages`.
    message_inboxes: Vec<Uuid>,
}

impl Plan {
    fn chunk(&self, first: usize, end: usize) -> Chunk {
        let mut chunk = Chunk {
            conversations: Vec::with_capacity(end - first),
            contacts: Vec::with_capacity((end - first) / 2 + 1),
            messages: Vec::with_capacity((end - first) * self.per_conversation),
            message_inboxes: Vec::with_capacity((end - first) * self.per_conversation),
        };
        // Chunks start at even numbers: contact i / 2 writes on two different inboxes (C1 allows
        // one live conversation per contact and inbox).
        let mut contact = ContactId::from_uuid(Uuid::nil());
        for i in first..end {
            let mut rng = Rng::new(i as u64);
            let inbox = self.inboxes[i % self.inboxes.len()];
            if i % 2 == 0 {
                contact = ContactId::from_uuid(Uuid::now_v7());
                chunk.contacts.push(self.contact(contact, i / 2));
            }
            let minute = chrono::Duration::minutes(1);
            let age = chrono::Duration::microseconds(
                i64::try_from(rng.below(90 * 86_400 * 1_000_000)).unwrap_or(0),
            );
            let activity = self.now - age;
            let count = self.per_conversation;
            let created = activity - minute * i32::try_from(count).unwrap_or(0);
            let id = ConversationId::from_uuid(Uuid::now_v7());
            let agent =
                self.agents[usize::try_from(rng.below(self.agents.len() as u64)).unwrap_or(0)];
            let queue =
                self.queues[usize::try_from(rng.below(self.queues.len() as u64)).unwrap_or(0)];
            let roll = rng.below(100);
            let state = match roll {
                0..10 => ConversationState::Open {
                    assignment: match rng.below(10) {
                        0..4 => Assignment::Assigned {
                            queue: Some(queue),
                            agent,
                            since: created,
                        },
                        4..7 => Assignment::Waiting {
                            queue,
                            since: created,
                        },
                        _ => Assignment::Unassigned,
                    },
                },
                10 => ConversationState::Bot { flow: "faq".into() },
                // C9: a closed conversation remembers the queue and agent it had.
                11 => ConversationState::Dropped {
                    at: activity,
                    queue: Some(queue),
                    agent: Some(agent),
                },
                _ => ConversationState::Resolved {
                    at: activity,
                    queue: Some(queue),
                    agent: Some(agent),
                },
            };
            let open = roll < 10;
            let awaiting = open && rng.below(10) < 6;
            let mut last_inbound = None;
            for seq in 1..=count {
                let at = activity - minute * i32::try_from(count - seq).unwrap_or(0);
                // Inbound and outbound alternate; a conversation awaiting a reply ends inbound.
                let inbound = (count - seq) % 2 == usize::from(!awaiting);
                if inbound {
                    last_inbound = Some(at);
                }
                chunk.message_inboxes.push(inbox.as_uuid());
                chunk.messages.push(Message {
                    id: MessageId::from_uuid(Uuid::now_v7()),
                    account: self.account,
                    conversation: id,
                    dialog: None,
                    sequence: seq as u64,
                    kind: MessageKind::Text,
                    direction: if inbound {
                        Direction::Inbound
                    } else {
                        Direction::Outbound
                    },
                    sender: if inbound {
                        Actor::Contact(contact)
                    } else {
                        Actor::Agent(agent)
                    },
                    body: if inbound {
                        format!("Hello, where is my order {i}-{seq}? It was due yesterday.")
                    } else {
                        format!("Thanks for waiting, order {i}-{seq} leaves our warehouse today.")
                    },
                    quote: None,
                    attachment: None,
                    client_id: None,
                    external_id: None,
                    created_at: at,
                    delivery: None,
                    deleted: None,
                    subject: None,
                });
            }
            let conversation = Conversation {
                id,
                account: self.account,
                inbox,
                channel: ChannelKind::WebChat,
                contact,
                state,
                created_at: created,
                last_inbound_at: last_inbound,
                last_message_at: Some(activity),
                waiting_since: if awaiting { last_inbound } else { None },
                skipped_agents: BTreeSet::new(),
            };
            chunk.conversations.push((conversation, count));
        }
        chunk
    }

    fn contact(&self, id: ContactId, n: usize) -> Contact {
        Contact {
            id,
            account: self.account,
            name: Some(format!("Contact {n}")),
            email: None,
            phone: None,
            location: None,
            notes: String::new(),
            attributes: std::collections::BTreeMap::new(),
            responsible_agent: None,
            identities: Vec::new(),
            merged_into: None,
            created_at: self.now,
        }
    }
}

/// The list columns of a conversation, as `inbox-store`'s `rows::conversation_columns` derives
/// them.
struct Columns {
    status: &'static str,
    queue: Option<Uuid>,
    assignee: Option<Uuid>,
    guest: Option<Uuid>,
    load_holder: Option<Uuid>,
    queued_since: Option<i64>,
    waiting_since: Option<i64>,
    activity_at: i64,
}

fn columns(c: &Conversation) -> Columns {
    let assignment = c.assignment();
    let (guest, queued_since) = match assignment {
        Some(Assignment::Conference { guest, .. }) => (Some(guest.as_uuid()), None),
        Some(Assignment::Waiting { since, .. }) => (None, Some(since.timestamp_micros())),
        _ => (None, None),
    };
    // C9: a closed conversation keeps its last queue and assignee (`Conversation::belongs_to`).
    let (queue, assignee) = c.belongs_to();
    Columns {
        status: match c.status() {
            ConversationStatus::Open => "open",
            ConversationStatus::Bot => "bot",
            ConversationStatus::Resolved => "resolved",
            ConversationStatus::Dropped => "dropped",
        },
        queue: queue.map(|q| q.as_uuid()),
        assignee: assignee.map(|a| a.as_uuid()),
        guest,
        load_holder: c.load_holder().map(|a| a.as_uuid()),
        queued_since,
        waiting_since: c.waiting_since.map(|t| t.timestamp_micros()),
        activity_at: last_activity(c).timestamp_micros(),
    }
}

fn json<T: serde::Serialize>(value: &T) -> BenchResult<String> {
    Ok(serde_json::to_string(value)?)
}

async fn write_chunk(db: &Db, chunk: &Chunk) -> BenchResult<()> {
    match db {
        Db::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            copy(
                &mut conn,
                "contacts (id, account_id, responsible_agent, merged_into, created_at, state)",
                &contacts_csv(chunk)?,
            )
            .await?;
            copy(
                &mut conn,
                "conversations (id, account_id, inbox_id, contact_id, status, interrupted, queue_id, assignee_id, \
                 guest_id, load_holder, alerted, waiting_since, queued_since, activity_at, created_at, version, message_seq, state)",
                &conversations_csv(chunk)?,
            )
            .await?;
            copy(
                &mut conn,
                "messages (id, account_id, conversation_id, inbox_id, dialog_id, seq, external_id, client_id, created_at, state)",
                &messages_csv(chunk)?,
            )
            .await?;
            Ok(())
        }
        Db::Sqlite { write, .. } => {
            let mut tx = write.begin().await?;
            for rows in chunk.contacts.chunks(ROWS_PER_INSERT) {
                let mut q = QueryBuilder::<sqlx::Sqlite>::new(
                    "INSERT INTO contacts (id, account_id, responsible_agent, merged_into, created_at, state) ",
                );
                let mut states = Vec::with_capacity(rows.len());
                for c in rows {
                    states.push(json(c)?);
                }
                q.push_values(rows.iter().zip(states), |mut b, (c, state)| {
                    b.push_bind(c.id.as_uuid())
                        .push_bind(c.account.as_uuid())
                        .push_bind(None::<Uuid>)
                        .push_bind(None::<Uuid>)
                        .push_bind(c.created_at.timestamp_micros())
                        .push_bind(state);
                });
                q.build().execute(&mut *tx).await?;
            }
            for rows in chunk.conversations.chunks(ROWS_PER_INSERT) {
                let mut q = QueryBuilder::<sqlx::Sqlite>::new(
                    "INSERT INTO conversations (id, account_id, inbox_id, contact_id, status, interrupted, queue_id, \
                     assignee_id, guest_id, load_holder, alerted, waiting_since, queued_since, activity_at, created_at, \
                     version, message_seq, state) ",
                );
                let mut states = Vec::with_capacity(rows.len());
                for (c, _) in rows {
                    states.push(json(c)?);
                }
                q.push_values(rows.iter().zip(states), |mut b, ((c, count), state)| {
                    let cols = columns(c);
                    let count = i64::try_from(*count).unwrap_or(0);
                    b.push_bind(c.id.as_uuid())
                        .push_bind(c.account.as_uuid())
                        .push_bind(c.inbox.as_uuid())
                        .push_bind(c.contact.as_uuid())
                        .push_bind(cols.status)
                        .push_bind(false)
                        .push_bind(cols.queue)
                        .push_bind(cols.assignee)
                        .push_bind(cols.guest)
                        .push_bind(cols.load_holder)
                        .push_bind("[]")
                        .push_bind(cols.waiting_since)
                        .push_bind(cols.queued_since)
                        .push_bind(cols.activity_at)
                        .push_bind(c.created_at.timestamp_micros())
                        .push_bind(count + 1)
                        .push_bind(count)
                        .push_bind(state);
                });
                q.build().execute(&mut *tx).await?;
            }
            let messages: Vec<(&Message, Uuid)> = chunk
                .messages
                .iter()
                .zip(chunk.message_inboxes.iter().copied())
                .collect();
            for rows in messages.chunks(ROWS_PER_INSERT) {
                let mut q = QueryBuilder::<sqlx::Sqlite>::new(
                    "INSERT INTO messages (id, account_id, conversation_id, inbox_id, dialog_id, seq, external_id, \
                     client_id, created_at, state) ",
                );
                let mut states = Vec::with_capacity(rows.len());
                for (m, _) in rows {
                    states.push(json(m)?);
                }
                q.push_values(rows.iter().zip(states), |mut b, ((m, inbox), state)| {
                    b.push_bind(m.id.as_uuid())
                        .push_bind(m.account.as_uuid())
                        .push_bind(m.conversation.as_uuid())
                        .push_bind(*inbox)
                        .push_bind(None::<Uuid>)
                        .push_bind(i64::try_from(m.sequence).unwrap_or(0))
                        .push_bind(None::<String>)
                        .push_bind(None::<String>)
                        .push_bind(m.created_at.timestamp_micros())
                        .push_bind(state);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        }
    }
}

async fn copy(conn: &mut sqlx::PgConnection, table: &str, csv: &str) -> BenchResult<()> {
    let mut copy = conn
        .copy_in_raw(&format!("COPY {table} FROM STDIN (FORMAT csv)"))
        .await?;
    copy.send(csv.as_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

/// A CSV field: empty (NULL) for None, else quoted with doubled quotes.
fn field(out: &mut String, value: Option<&str>) {
    if let Some(value) = value {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    }
}

fn opt<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(String::new, |v| v.to_string())
}

fn contacts_csv(chunk: &Chunk) -> BenchResult<String> {
    let mut out = String::with_capacity(chunk.contacts.len() * 400);
    for c in &chunk.contacts {
        let _ = write!(
            out,
            "{},{},,,{},",
            c.id,
            c.account,
            c.created_at.timestamp_micros()
        );
        field(&mut out, Some(&json(c)?));
        out.push('\n');
    }
    Ok(out)
}

fn conversations_csv(chunk: &Chunk) -> BenchResult<String> {
    let mut out = String::with_capacity(chunk.conversations.len() * 700);
    for (c, count) in &chunk.conversations {
        let cols = columns(c);
        let _ = write!(
            out,
            "{},{},{},{},{},f,{},{},{},{},\"[]\",{},{},{},{},{},{},",
            c.id,
            c.account,
            c.inbox,
            c.contact,
            cols.status,
            opt(cols.queue),
            opt(cols.assignee),
            opt(cols.guest),
            opt(cols.load_holder),
            opt(cols.waiting_since),
            opt(cols.queued_since),
            cols.activity_at,
            c.created_at.timestamp_micros(),
            count + 1,
            count,
        );
        field(&mut out, Some(&json(c)?));
        out.push('\n');
    }
    Ok(out)
}

fn messages_csv(chunk: &Chunk) -> BenchResult<String> {
    let mut out = String::with_capacity(chunk.messages.len() * 500);
    for (m, inbox) in chunk.messages.iter().zip(&chunk.message_inboxes) {
        let _ = write!(
            out,
            "{},{},{},{},,{},,,{},",
            m.id,
            m.account,
            m.conversation,
            inbox,
            m.sequence,
            m.created_at.timestamp_micros()
        );
        field(&mut out, Some(&json(m)?));
        out.push('\n');
    }
    Ok(out)
}
