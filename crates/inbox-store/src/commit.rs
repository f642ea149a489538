//! `CommitStore`: what one change writes. The order inside it is chosen so the database's own
//! rules decide every race: aggregate rows first (their version check and the partial unique
//! indexes of C1 and D3), then load moves in agent-id order (R2, no deadlock cycles between
//! agents), messages with their per-conversation sequence (M9) and dedup indexes (M8), their
//! files (M7; a deleted message's file goes with it, M5), the rest, and last the account's event
//! counter, so the log's readers never see a later sequence before an earlier one.
//!
//! Commits are not written one transaction each: [`crate::group_commit`] queues them and
//! [`crate::commit_batch`] writes a batch in one transaction, each commit in a savepoint, with
//! [`write`] for its rows, [`explain`] for its refusal, and [`append_events`] once per account
//! for the events of the whole batch.

use std::collections::HashMap;

use async_trait::async_trait;
use conversation_core::DomainError;
use conversation_core::conversation::{Conversation, ConversationState};
use conversation_core::dialog::Dialog;
use conversation_core::ids::{AccountId, AgentId, ContactId, ConversationId, MessageId};
use conversation_core::message::{Message, MessageDeleted};
use conversation_core::ports::{
    AggregateChange, AggregateState, Commit, CommitReceipt, CommitStore, ExpectedVersion,
    MessageUpdate, StoreError, TimerChange,
};
use conversation_core::presence::AgentPresence;

use crate::error::{OrStoreError, StoreResult, Violation, store_error, violation};
use crate::list_counts::CountMove;
use crate::open::SqlStore;
use crate::rows::{aggregate_columns, conversation_columns, to_json};
use crate::sql::{Tx, args};

/// Why a commit stopped, resolved into a [`StoreError`] after the rollback (PostgreSQL accepts
/// no further statement in a failed transaction).
pub(crate) enum Stop {
    Error(StoreError),
    ActiveDialog {
        contact: ContactId,
    },
    DuplicateExternal {
        conversation: ConversationId,
        external_id: String,
    },
    DuplicateClient {
        conversation: ConversationId,
        client_id: String,
    },
}

impl From<StoreError> for Stop {
    fn from(error: StoreError) -> Self {
        Self::Error(error)
    }
}

impl From<DomainError> for Stop {
    fn from(error: DomainError) -> Self {
        Self::Error(error.into())
    }
}

fn conflict(what: &'static str) -> Stop {
    Stop::Error(DomainError::Conflict { what }.into())
}

fn version_arg(version: u64) -> StoreResult<i64> {
    i64::try_from(version).map_err(|e| StoreError::Internal(Box::new(e)))
}

#[async_trait]
impl CommitStore for SqlStore {
    async fn commit(&self, commit: Commit) -> Result<CommitReceipt, StoreError> {
        self.commits
            .submit(vec![commit])
            .await
            .pop()
            .unwrap_or_else(|| Err(StoreError::Internal("a commit went unanswered".into())))
    }
}

/// Turns a stop into the error the caller gets, reading what it needs after the commit's
/// savepoint was rolled back (so it sees what the batch's earlier commits wrote, as the commit
/// alone would have seen them committed).
pub(crate) async fn explain(tx: &mut Tx, account: AccountId, stop: Stop) -> StoreError {
    let lookup = match stop {
        Stop::Error(error) => return error,
        Stop::ActiveDialog { contact } => {
            let row = tx
                    .fetch_optional(
                        "SELECT id FROM dialogs WHERE account_id = $1 AND contact_id = $2 AND status = 'active'",
                        &args![account, contact],
                    )
                    .await;
            return match row {
                Ok(Some(row)) => match row.uuid("id") {
                    Ok(id) => DomainError::DialogAlreadyActive {
                        active: conversation_core::ids::DialogId::from_uuid(id),
                    }
                    .into(),
                    Err(e) => store_error(e),
                },
                // The other dialog was paused meanwhile: the caller may simply retry.
                Ok(None) => DomainError::Conflict {
                    what: "the contact's active dialog",
                }
                .into(),
                Err(e) => store_error(e),
            };
        }
        Stop::DuplicateExternal {
            conversation,
            external_id,
        } => {
            tx.fetch_optional(
                "SELECT m.id FROM messages m JOIN conversations c ON c.inbox_id = m.inbox_id \
                     WHERE c.id = $1 AND m.external_id = $2",
                &args![conversation, external_id],
            )
            .await
        }
        Stop::DuplicateClient {
            conversation,
            client_id,
        } => {
            tx.fetch_optional(
                "SELECT id FROM messages WHERE conversation_id = $1 AND client_id = $2",
                &args![conversation, client_id],
            )
            .await
        }
    };
    match lookup {
        Ok(Some(row)) => match row.uuid("id") {
            Ok(id) => StoreError::Duplicate {
                existing: MessageId::from_uuid(id),
            },
            Err(e) => store_error(e),
        },
        Ok(None) => DomainError::Conflict {
            what: "the message",
        }
        .into(),
        Err(e) => store_error(e),
    }
}

/// What a commit's rows were given (its events are numbered later, with the batch's).
pub(crate) struct Written {
    /// The new version of each change.
    pub(crate) versions: Vec<u64>,
    /// The sequence of each new message.
    pub(crate) message_sequences: Vec<u64>,
}

/// Writes every row of the commit except its events (see [`append_events`]).
pub(crate) async fn write(tx: &mut Tx, commit: &Commit) -> Result<Written, Stop> {
    let account = commit.account;
    let mut versions = Vec::with_capacity(commit.changes.len());
    // M9: the sequences of the messages of conversations written here are taken by the
    // conversation's own row write (one statement less per message); others take theirs alone.
    let mut sequences: HashMap<ConversationId, NextSequence> = HashMap::new();
    for change in &commit.changes {
        let (version, next) = write_aggregate(tx, account, change, &commit.messages).await?;
        versions.push(version);
        if let Some((conversation, next)) = next {
            sequences.insert(conversation, next);
        }
    }
    move_load(tx, commit).await?;
    let mut message_sequences = Vec::with_capacity(commit.messages.len());
    for message in &commit.messages {
        let sequence = match sequences.get_mut(&message.conversation) {
            Some(next) => {
                let sequence = next.sequence;
                next.sequence += 1;
                insert_message_row(tx, account, message, next.inbox, sequence).await?
            }
            None => insert_message(tx, account, message).await?,
        };
        message_sequences.push(sequence);
    }
    crate::files::write_files(tx, account, &commit.files, &commit.messages).await?;
    for update in &commit.message_updates {
        update_message(tx, account, update).await?;
    }
    for order in &commit.orders {
        tx.execute(
            "INSERT INTO orders (id, account_id, conversation_id, created_at, state) VALUES ($1, $2, $3, $4, $5)",
            &args![order.id, account, order.conversation, order.created_at, to_json(order)?],
        )
        .await
        .store()?;
    }
    for task in &commit.tasks {
        tx.execute(
            "INSERT INTO tasks (id, account_id, agent_id, due_at, state) VALUES ($1, $2, $3, $4, $5)",
            &args![task.id, account, task.agent, task.due_at, to_json(task)?],
        )
        .await
        .store()?;
    }
    write_timers(tx, account, &commit.timers).await?;
    crate::held::hold(tx, account, &commit.hold).await?;
    crate::held::release(tx, account, &commit.release).await?;
    for item in &commit.outbox {
        tx.execute(
            "INSERT INTO outbox (id, account_id, kind, payload, due_at) VALUES ($1, $2, $3, $4, $5)",
            &args![item.id, account, to_json(&item.kind)?.trim_matches('"'), item.payload.as_str(), item.due_at],
        )
        .await
        .store()?;
    }
    Ok(Written {
        versions,
        message_sequences,
    })
}

/// The next message sequence of a conversation written in this commit, and its inbox.
struct NextSequence {
    sequence: u64,
    inbox: uuid::Uuid,
}

/// Writes one aggregate row; for a conversation, also takes the sequences of its `messages`
/// in this commit and answers the first of them.
async fn write_aggregate(
    tx: &mut Tx,
    account: AccountId,
    change: &AggregateChange,
    messages: &[Message],
) -> Result<(u64, Option<(ConversationId, NextSequence)>), Stop> {
    match &change.state {
        AggregateState::Conversation { conversation, .. } => {
            let taken = messages
                .iter()
                .filter(|message| message.conversation == conversation.id)
                .count();
            let taken = u64::try_from(taken).map_err(|e| StoreError::Internal(Box::new(e)))?;
            let (version, last) =
                write_conversation(tx, account, conversation, change.expected, taken).await?;
            let next = NextSequence {
                sequence: last + 1 - taken,
                inbox: conversation.inbox.as_uuid(),
            };
            Ok((version, Some((conversation.id, next))))
        }
        AggregateState::Dialog(dialog) => Ok((
            write_dialog(tx, account, dialog, change.expected).await?,
            None,
        )),
        AggregateState::Agent(presence) => Ok((
            write_presence(tx, account, presence, change.expected).await?,
            None,
        )),
    }
}

/// Writes the conversation's row with its version check, taking `taken` message sequences
/// (M9); answers the new version and the last sequence taken.
async fn write_conversation(
    tx: &mut Tx,
    account: AccountId,
    c: &Conversation,
    expected: ExpectedVersion,
    taken: u64,
) -> Result<(u64, u64), Stop> {
    if c.account != account {
        return Err(DomainError::NotFound.into());
    }
    let cols = conversation_columns(c)?;
    let state = to_json(c)?;
    let counts = CountMove::read(tx, account, c, &cols, expected).await?;
    let taken_arg = version_arg(taken)?;
    let result = match expected {
        ExpectedVersion::New => tx
            .execute(
                "INSERT INTO conversations (id, account_id, inbox_id, contact_id, status, interrupted, \
                 queue_id, assignee_id, guest_id, load_holder, alerted, waiting_since, queued_since, \
                 activity_at, created_at, version, state, message_seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16, $17)",
                &args![
                    c.id, account, c.inbox, c.contact, cols.status, cols.interrupted, cols.queue,
                    cols.assignee, cols.guest, cols.load_holder, cols.alerted, cols.waiting_since,
                    cols.queued_since, cols.activity_at, c.created_at, state, taken_arg
                ],
            )
            .await
            .map(|written| (written == 1).then_some(taken)),
        ExpectedVersion::Exactly(version) => tx
            .fetch_optional(
                "UPDATE conversations SET status = $3, interrupted = $4, queue_id = $5, assignee_id = $6, \
                 guest_id = $7, load_holder = $8, alerted = $9, waiting_since = $10, queued_since = $11, \
                 activity_at = $12, state = $13, version = version + 1, message_seq = message_seq + $15 \
                 WHERE id = $1 AND account_id = $2 AND version = $14 RETURNING message_seq",
                &args![
                    c.id, account, cols.status, cols.interrupted, cols.queue, cols.assignee, cols.guest,
                    cols.load_holder, cols.alerted, cols.waiting_since, cols.queued_since,
                    cols.activity_at, state, version_arg(version)?, taken_arg
                ],
            )
            .await
            .and_then(|row| row.map(|row| row.count("message_seq")).transpose()),
    };
    match result {
        Ok(Some(last)) => {
            counts.write(tx).await?;
            write_alerts(tx, account, c, expected).await?;
            Ok((next_version(expected), last))
        }
        Ok(None) => Err(conflict("the conversation")),
        Err(e) => Err(match violation(&e) {
            Some(Violation::LiveConversation) => {
                conflict("the contact's open conversation on this inbox")
            }
            Some(Violation::PrimaryKey) => conflict("the conversation"),
            _ => store_error(e).into(),
        }),
    }
}

/// C7, A2: the agents an interrupted conversation alerted, as rows of `conversation_alerts`
/// that the lists find by index. Rewritten while the conversation is interrupted, removed when
/// it is closed (ending is all an interrupted conversation allows); nothing is written for any
/// other change. Lists also require `conversations.interrupted`, so no left-over row can show a
/// conversation to anyone.
async fn write_alerts(
    tx: &mut Tx,
    account: AccountId,
    c: &Conversation,
    expected: ExpectedVersion,
) -> Result<(), Stop> {
    let alerted = match &c.state {
        ConversationState::Interrupted { agents, .. } => agents,
        _ if c.is_closed() && expected != ExpectedVersion::New => {
            tx.execute(
                "DELETE FROM conversation_alerts WHERE conversation_id = $1",
                &args![c.id],
            )
            .await
            .store()?;
            return Ok(());
        }
        _ => return Ok(()),
    };
    tx.execute(
        "DELETE FROM conversation_alerts WHERE conversation_id = $1",
        &args![c.id],
    )
    .await
    .store()?;
    for agent in alerted {
        tx.execute(
            "INSERT INTO conversation_alerts (conversation_id, agent_id, account_id) VALUES ($1, $2, $3)",
            &args![c.id, *agent, account],
        )
        .await
        .store()?;
    }
    Ok(())
}

async fn write_dialog(
    tx: &mut Tx,
    account: AccountId,
    d: &Dialog,
    expected: ExpectedVersion,
) -> Result<u64, Stop> {
    if d.account != account {
        return Err(DomainError::NotFound.into());
    }
    let status = d.status.kind().as_str();
    let state = to_json(d)?;
    let result = match expected {
        ExpectedVersion::New => {
            tx.execute(
                "INSERT INTO dialogs (id, account_id, conversation_id, contact_id, status, created_at, version, state) \
                 VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
                &args![d.id, account, d.conversation, d.contact, status, d.created_at, state],
            )
            .await
        }
        ExpectedVersion::Exactly(version) => {
            tx.execute(
                "UPDATE dialogs SET status = $3, state = $4, version = version + 1 \
                 WHERE id = $1 AND account_id = $2 AND version = $5",
                &args![d.id, account, status, state, version_arg(version)?],
            )
            .await
        }
    };
    match result {
        Ok(1) => Ok(next_version(expected)),
        Ok(_) => Err(conflict("the dialog")),
        Err(e) => Err(match violation(&e) {
            Some(Violation::ActiveDialog) => Stop::ActiveDialog { contact: d.contact },
            Some(Violation::PrimaryKey) => conflict("the dialog"),
            _ => store_error(e).into(),
        }),
    }
}

async fn write_presence(
    tx: &mut Tx,
    account: AccountId,
    p: &AgentPresence,
    expected: ExpectedVersion,
) -> Result<u64, Stop> {
    let expected_version = match expected {
        ExpectedVersion::New => 0,
        ExpectedVersion::Exactly(version) => version_arg(version)?,
    };
    let availability = to_json(&p.availability)?;
    let updated = tx
        .execute(
            "UPDATE agents SET availability = $3, availability_since = $4, presence_version = presence_version + 1 \
             WHERE id = $1 AND account_id = $2 AND presence_version = $5",
            &args![p.agent, account, availability.trim_matches('"'), p.since, expected_version],
        )
        .await
        .store()?;
    if updated == 1 {
        Ok(next_version(expected))
    } else {
        Err(conflict("the agent's presence"))
    }
}

const fn next_version(expected: ExpectedVersion) -> u64 {
    match expected {
        ExpectedVersion::New => 1,
        ExpectedVersion::Exactly(version) => version + 1,
    }
}

/// R2: releases first, then claims, each set in agent-id order.
async fn move_load(tx: &mut Tx, commit: &Commit) -> Result<(), Stop> {
    let mut releases: Vec<AgentId> = Vec::new();
    let mut claims = Vec::new();
    for change in &commit.changes {
        if let AggregateState::Conversation { load, .. } = &change.state {
            releases.extend(load.release);
            claims.extend(load.claim);
        }
    }
    releases.sort_unstable();
    claims.sort_unstable_by_key(|claim| claim.agent);
    for agent in releases {
        tx.execute(
            "UPDATE agents SET load = load - 1 WHERE id = $1 AND account_id = $2 AND load > 0",
            &args![agent, commit.account],
        )
        .await
        .store()?;
    }
    let now = commit_time(commit);
    for claim in claims {
        let sql = if claim.enforce_capacity {
            "UPDATE agents SET load = load + 1, last_assigned_at = $3 \
             WHERE id = $1 AND account_id = $2 AND load < capacity"
        } else {
            "UPDATE agents SET load = load + 1, last_assigned_at = $3 WHERE id = $1 AND account_id = $2"
        };
        let updated = tx
            .execute(sql, &args![claim.agent, commit.account, now])
            .await
            .store()?;
        if updated == 0 {
            let exists = tx
                .fetch_optional(
                    "SELECT id FROM agents WHERE id = $1 AND account_id = $2",
                    &args![claim.agent, commit.account],
                )
                .await
                .store()?;
            return Err(if exists.is_some() {
                DomainError::CapacityExceeded { agent: claim.agent }.into()
            } else {
                DomainError::NotFound.into()
            });
        }
    }
    Ok(())
}

/// The time of the change: its latest event's.
fn commit_time(commit: &Commit) -> Option<conversation_core::Timestamp> {
    commit
        .changes
        .iter()
        .flat_map(|change| change.events.iter().map(conversation_core::DomainEvent::at))
        .max()
}

/// M9, M8: the next sequence of the conversation, then the row (its unique indexes refuse a
/// duplicate inbound or client message).
async fn insert_message(tx: &mut Tx, account: AccountId, message: &Message) -> Result<u64, Stop> {
    if message.account != account {
        return Err(DomainError::NotFound.into());
    }
    let row = tx
        .fetch_optional(
            "UPDATE conversations SET message_seq = message_seq + 1 \
             WHERE id = $1 AND account_id = $2 RETURNING message_seq, inbox_id",
            &args![message.conversation, account],
        )
        .await
        .store()?
        .ok_or(DomainError::NotFound)?;
    let sequence = row.count("message_seq").store()?;
    let inbox = row.uuid("inbox_id").store()?;
    insert_message_row(tx, account, message, inbox, sequence).await
}

/// M8: the message's row with its sequence (its unique indexes refuse a duplicate inbound or
/// client message).
async fn insert_message_row(
    tx: &mut Tx,
    account: AccountId,
    message: &Message,
    inbox: uuid::Uuid,
    sequence: u64,
) -> Result<u64, Stop> {
    if message.account != account {
        return Err(DomainError::NotFound.into());
    }
    let mut stored = message.clone();
    stored.sequence = sequence;
    let result = tx
        .execute(
            "INSERT INTO messages (id, account_id, conversation_id, inbox_id, dialog_id, seq, external_id, \
             client_id, created_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &args![
                message.id, account, message.conversation, inbox, message.dialog,
                version_arg(sequence)?, message.external_id.clone(), message.client_id.clone(),
                message.created_at, to_json(&stored)?
            ],
        )
        .await;
    match result {
        Ok(_) => Ok(sequence),
        Err(e) => Err(match violation(&e) {
            Some(Violation::MessageExternalId) => Stop::DuplicateExternal {
                conversation: message.conversation,
                external_id: message.external_id.clone().unwrap_or_default(),
            },
            Some(Violation::MessageClientId) => Stop::DuplicateClient {
                conversation: message.conversation,
                client_id: message.client_id.clone().unwrap_or_default(),
            },
            Some(Violation::PrimaryKey) => conflict("the message"),
            _ => store_error(e).into(),
        }),
    }
}

async fn update_message(
    tx: &mut Tx,
    account: AccountId,
    update: &MessageUpdate,
) -> Result<(), Stop> {
    let id = match update {
        MessageUpdate::Delivery { message, .. } | MessageUpdate::Deleted { message, .. } => {
            *message
        }
    };
    let sql = format!(
        "SELECT state, seq FROM messages WHERE id = $1 AND account_id = $2{}",
        tx.dialect().for_update()
    );
    let row = tx
        .fetch_optional(&sql, &args![id, account])
        .await
        .store()?
        .ok_or(DomainError::NotFound)?;
    let mut message = crate::rows::message(&row)?;
    let mut external = message.external_id.clone();
    match update {
        MessageUpdate::Delivery {
            delivery,
            external_id,
            ..
        } => {
            message.delivery = Some(delivery.clone());
            if external_id.is_some() {
                external.clone_from(external_id);
                message.external_id.clone_from(external_id);
            }
        }
        MessageUpdate::Deleted { tombstone, .. } => {
            crate::files::delete_files_of(tx, account, id).await?;
            message.apply_deleted(&MessageDeleted {
                account,
                conversation: message.conversation,
                message: id,
                deleted_by: tombstone.deleted_by,
                deleted_at: tombstone.deleted_at,
                unsend: false,
            });
        }
    }
    tx.execute(
        "UPDATE messages SET state = $3, external_id = $4 WHERE id = $1 AND account_id = $2",
        &args![id, account, to_json(&message)?, external],
    )
    .await
    .store()?;
    Ok(())
}

async fn write_timers(tx: &mut Tx, account: AccountId, timers: &[TimerChange]) -> Result<(), Stop> {
    for change in timers {
        match change {
            TimerChange::Schedule(timer) => {
                tx.execute(
                    "INSERT INTO timers (account_id, key, kind, payload, due_at, attempts) \
                     VALUES ($1, $2, $3, $4, $5, 0) \
                     ON CONFLICT (account_id, key) DO UPDATE SET kind = excluded.kind, \
                     payload = excluded.payload, due_at = excluded.due_at, lease_owner = NULL, \
                     lease_until = NULL, attempts = 0",
                    &args![
                        account,
                        timer.key.as_str(),
                        to_json(&timer.kind)?.trim_matches('"'),
                        timer.payload.as_str(),
                        timer.due_at
                    ],
                )
                .await
                .store()?;
            }
            TimerChange::Cancel { key } => {
                tx.execute(
                    "DELETE FROM timers WHERE account_id = $1 AND key = $2",
                    &args![account, key.as_str()],
                )
                .await
                .store()?;
            }
        }
    }
    Ok(())
}

/// The columns of an `events` row as [`append_events`] binds them.
const EVENT_COLUMNS: usize = 6;
/// The most rows per `INSERT` (384 parameters, well within both dialects' limits).
const EVENTS_PER_INSERT: usize = 64;

/// `INSERT INTO events ... VALUES (...), (...)` for `rows` rows.
fn insert_events_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO events (account_id, seq, aggregate_type, aggregate_id, at, payload) VALUES ",
    );
    for row in 0..rows {
        let first = row * EVENT_COLUMNS;
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${})",
            first + 1,
            first + 2,
            first + 3,
            first + 4,
            first + 5,
            first + 6
        ));
    }
    sql
}

/// Reserves the next event sequences of the account for the events of `commits` (each one's
/// changes, in submission order) and writes the events; returns the last sequence of each commit
/// (0 for one without events, as it would get alone). The account's row stays locked until the
/// transaction commits, so commits of one account reach the log in sequence order.
pub(crate) async fn append_events(
    tx: &mut Tx,
    account: AccountId,
    commits: &[&[AggregateChange]],
) -> StoreResult<Vec<u64>> {
    let total: usize = commits
        .iter()
        .flat_map(|changes| changes.iter())
        .map(|change| change.events.len())
        .sum();
    if total == 0 {
        return Ok(vec![0; commits.len()]);
    }
    let total = i64::try_from(total).map_err(|e| StoreError::Internal(Box::new(e)))?;
    let row = tx
        .fetch_optional(
            "UPDATE accounts SET event_seq = event_seq + $2 WHERE id = $1 RETURNING event_seq",
            &args![account, total],
        )
        .await
        .store()?
        .ok_or(DomainError::NotFound)?;
    let mut seq = row.int("event_seq").store()? - total;
    let first = seq + 1;
    let mut rows = Vec::new();
    let mut lasts = Vec::with_capacity(commits.len());
    for changes in commits {
        let mut last = 0;
        for change in *changes {
            let (aggregate_type, aggregate_id) = aggregate_columns(change.state.id());
            for event in &change.events {
                seq += 1;
                rows.extend(args![
                    account,
                    seq,
                    aggregate_type,
                    aggregate_id,
                    event.at(),
                    to_json(event)?
                ]);
                last = u64::try_from(seq).map_err(|e| StoreError::Internal(Box::new(e)))?;
            }
        }
        lasts.push(last);
    }
    // Many rows per statement, in power-of-two chunks (few round trips per batch, few distinct
    // statements for the connections' prepared-statement caches).
    let mut rest = rows.as_slice();
    while !rest.is_empty() {
        let count = EVENTS_PER_INSERT.min(1 << (rest.len() / EVENT_COLUMNS).ilog2());
        let (chunk, tail) = rest.split_at(count * EVENT_COLUMNS);
        tx.execute(&insert_events_sql(count), chunk).await.store()?;
        rest = tail;
    }
    // N1: one ring per batch, delivered with the COMMIT (PostgreSQL only).
    crate::doorbell::ring(tx, account, first, seq).await?;
    Ok(lasts)
}
