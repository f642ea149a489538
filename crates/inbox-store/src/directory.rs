//! `DirectoryStore`: accounts, agents, queues, inboxes, contacts, setting lists, tasks and
//! orders. Saves are upserts of the whole entity, guarded so that an id of another account is
//! never overwritten (it answers `not_found`, A1); every statement of a method that names an
//! account is scoped by it. Saves that write several rows (a queue and its members, a contact
//! and its identities) do it in one transaction.
//!
//! Also here: the few conversions the directory, work and auth modules share (enum names as
//! stored, small integers, foreign-key errors).

use std::collections::HashMap;

use async_trait::async_trait;
use conversation_core::DomainError;
use conversation_core::Timestamp;
use conversation_core::conversation::Conversation;
use conversation_core::entities::{
    Account, Agent, Contact, Inbox, Order, Queue, SettingEntry, Task,
};
use conversation_core::ids::{
    AccountId, AgentId, ContactId, ConversationId, InboxId, QueueId, TaskId,
};
use conversation_core::ports::{Dependency, DirectoryStore, SettingKind, StoreError, Versioned};
use conversation_core::presence::AgentPresence;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::{OrStoreError, StoreResult, json_error, store_error};
use crate::open::SqlStore;
use crate::rows::to_json;
use crate::sql::{Dialect, Row, Tx, args};

/// The stored name of a unit enum variant: its serde name (`least_loaded`).
///
/// # Errors
/// Only for a value that is not a unit variant (a bug).
pub(crate) fn name_of<T: Serialize>(value: &T) -> StoreResult<String> {
    match serde_json::to_value(value).map_err(json_error)? {
        serde_json::Value::String(name) => Ok(name),
        other => Err(StoreError::Internal(
            format!("not a unit variant: {other}").into(),
        )),
    }
}

/// A unit enum variant read back from its stored name.
///
/// # Errors
/// A missing column or an unknown name (a corrupt row).
pub(crate) fn parse_name<T: DeserializeOwned>(row: &Row, column: &str) -> StoreResult<T> {
    let name = row.text(column).store()?;
    serde_json::from_value(serde_json::Value::String(name)).map_err(json_error)
}

/// An integer column as a narrower type (`u32`, `u8`), checked.
///
/// # Errors
/// A missing column or a value out of range (a corrupt row).
pub(crate) fn int_as<T: TryFrom<i64>>(row: &Row, column: &str) -> StoreResult<T> {
    let value = row.int(column).store()?;
    T::try_from(value)
        .map_err(|_| StoreError::Internal(format!("{column} out of range: {value}").into()))
}

/// A write's driver error: a missing referenced row (the account) is `not_found`, the rest as
/// [`store_error`] maps it.
pub(crate) fn write_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => DomainError::NotFound.into(),
        _ => store_error(error),
    }
}

/// The key that makes emails unique: trimmed and lower-cased.
fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// `Ok(())` when one row was written, `not_found` when the guard refused it (an id of another
/// account, a deleted inbox).
fn one_row(written: u64) -> StoreResult<()> {
    if written == 0 {
        Err(DomainError::NotFound.into())
    } else {
        Ok(())
    }
}

/// Runs `body` in a write transaction: committed when it succeeds, rolled back otherwise.
macro_rules! in_transaction {
    ($db:expr, |$tx:ident| $body:expr) => {{
        let mut $tx = $db.begin().await.store()?;
        let result: StoreResult<_> = $body;
        match result {
            Ok(value) => {
                $tx.commit().await.map_err(write_error)?;
                Ok(value)
            }
            Err(error) => {
                drop($tx);
                Err(error)
            }
        }
    }};
}

/// How [`owned`] reads the row it checks.
#[derive(Clone, Copy)]
enum Check {
    /// A plain read: for rows that are never deleted (agents, contacts, inboxes, which are
    /// only marked deleted), so concurrent saves do not wait for each other.
    Read,
    /// Share-locked on PostgreSQL until the transaction ends, so a concurrent delete of the row
    /// (a queue) waits for the commit and then sees what it wrote.
    Share,
}

/// Whether a row of `table` with this id belongs to the account.
async fn owned(
    tx: &mut Tx,
    table: &str,
    account: AccountId,
    id: Uuid,
    check: Check,
) -> StoreResult<bool> {
    let lock = match (check, tx.dialect()) {
        (Check::Share, Dialect::Postgres) => " FOR SHARE",
        (Check::Read, _) | (_, Dialect::Sqlite) => "",
    };
    let sql = format!("SELECT id FROM {table} WHERE id = $1 AND account_id = $2{lock}");
    Ok(tx
        .fetch_optional(&sql, &args![id, account])
        .await
        .store()?
        .is_some())
}

const AGENT_COLUMNS: &str = "id, account_id, name, email, role, full_access, permissions, \
                             availability, capacity, experience_level, cost_tier";

fn agent_row(row: &Row) -> StoreResult<Agent> {
    Ok(Agent {
        id: AgentId::from_uuid(row.uuid("id").store()?),
        account: AccountId::from_uuid(row.uuid("account_id").store()?),
        name: row.text("name").store()?,
        email: row.text("email").store()?,
        role: parse_name(row, "role")?,
        full_access: row.bool("full_access").store()?,
        permissions: row.json("permissions").store()?,
        availability: parse_name(row, "availability")?,
        capacity: int_as(row, "capacity")?,
        experience_level: int_as(row, "experience_level")?,
        cost_tier: int_as(row, "cost_tier")?,
    })
}

fn queue_row(row: &Row, members: Vec<AgentId>) -> StoreResult<Queue> {
    Ok(Queue {
        id: QueueId::from_uuid(row.uuid("id").store()?),
        account: AccountId::from_uuid(row.uuid("account_id").store()?),
        name: row.text("name").store()?,
        strategy: parse_name(row, "strategy")?,
        delivery: parse_name(row, "delivery")?,
        offer_timeout_secs: int_as(row, "offer_timeout_secs")?,
        members,
    })
}

fn inbox_row(row: &Row) -> StoreResult<Inbox> {
    Ok(Inbox {
        id: InboxId::from_uuid(row.uuid("id").store()?),
        account: AccountId::from_uuid(row.uuid("account_id").store()?),
        name: row.text("name").store()?,
        channel: parse_name(row, "channel")?,
        queue: row.opt_uuid("queue_id").store()?.map(QueueId::from_uuid),
        settings: row.json("settings").store()?,
    })
}

fn setting_row(row: &Row) -> StoreResult<SettingEntry<Uuid>> {
    Ok(SettingEntry {
        id: row.uuid("id").store()?,
        name: row.text("name").store()?,
        archived_at: row.opt_time("archived_at").store()?,
    })
}

/// The first occurrence of each value, in order.
fn distinct<T: PartialEq + Clone>(values: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(values.len());
    for value in values {
        if !out.contains(value) {
            out.push(value.clone());
        }
    }
    out
}

async fn write_queue(tx: &mut Tx, queue: &Queue) -> StoreResult<()> {
    let account = queue.account;
    let members = distinct(&queue.members);
    for member in &members {
        if !owned(tx, "agents", account, member.as_uuid(), Check::Read).await? {
            return Err(DomainError::NotFound.into());
        }
    }
    let written = tx
        .execute(
            "INSERT INTO queues (id, account_id, name, strategy, delivery, offer_timeout_secs) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, strategy = excluded.strategy, \
             delivery = excluded.delivery, offer_timeout_secs = excluded.offer_timeout_secs \
             WHERE queues.account_id = excluded.account_id",
            &args![
                queue.id,
                account,
                queue.name.as_str(),
                name_of(&queue.strategy)?,
                name_of(&queue.delivery)?,
                queue.offer_timeout_secs
            ],
        )
        .await
        .map_err(write_error)?;
    one_row(written)?;
    tx.execute(
        "DELETE FROM queue_members WHERE queue_id = $1 \
         AND queue_id IN (SELECT id FROM queues WHERE account_id = $2)",
        &args![queue.id, account],
    )
    .await
    .store()?;
    for (position, member) in members.iter().enumerate() {
        let position = i64::try_from(position).map_err(|e| StoreError::Internal(Box::new(e)))?;
        tx.execute(
            "INSERT INTO queue_members (queue_id, agent_id, position) VALUES ($1, $2, $3)",
            &args![queue.id, *member, position],
        )
        .await
        .store()?;
    }
    Ok(())
}

async fn write_inbox(tx: &mut Tx, inbox: &Inbox) -> StoreResult<()> {
    let account = inbox.account;
    if let Some(queue) = inbox.queue {
        if !owned(tx, "queues", account, queue.as_uuid(), Check::Share).await? {
            return Err(DomainError::NotFound.into());
        }
    }
    let written = tx
        .execute(
            "INSERT INTO inboxes (id, account_id, name, channel, queue_id, settings) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, channel = excluded.channel, \
             queue_id = excluded.queue_id, settings = excluded.settings \
             WHERE inboxes.account_id = excluded.account_id AND inboxes.deleted_at IS NULL",
            &args![
                inbox.id,
                account,
                inbox.name.as_str(),
                name_of(&inbox.channel)?,
                inbox.queue,
                to_json(&inbox.settings)?
            ],
        )
        .await
        .map_err(write_error)?;
    one_row(written)
}

async fn write_contact(tx: &mut Tx, contact: &Contact) -> StoreResult<()> {
    let account = contact.account;
    // A1: every id the contact names must be the account's own; an identity on another
    // account's inbox would otherwise squat that inbox's channel id.
    if let Some(agent) = contact.responsible_agent {
        if !owned(tx, "agents", account, agent.as_uuid(), Check::Read).await? {
            return Err(DomainError::NotFound.into());
        }
    }
    if let Some(target) = contact.merged_into {
        if !owned(tx, "contacts", account, target.as_uuid(), Check::Read).await? {
            return Err(DomainError::NotFound.into());
        }
    }
    let identities = distinct(&contact.identities);
    for inbox in distinct(&identities.iter().map(|i| i.inbox).collect::<Vec<_>>()) {
        if !owned(tx, "inboxes", account, inbox.as_uuid(), Check::Read).await? {
            return Err(DomainError::NotFound.into());
        }
    }
    let written = tx
        .execute(
            "INSERT INTO contacts (id, account_id, responsible_agent, merged_into, created_at, state) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET responsible_agent = excluded.responsible_agent, \
             merged_into = excluded.merged_into, created_at = excluded.created_at, \
             state = excluded.state \
             WHERE contacts.account_id = excluded.account_id",
            &args![
                contact.id,
                account,
                contact.responsible_agent,
                contact.merged_into,
                contact.created_at,
                to_json(contact)?
            ],
        )
        .await
        .map_err(write_error)?;
    one_row(written)?;
    tx.execute(
        "DELETE FROM contact_identities WHERE contact_id = $1 AND account_id = $2",
        &args![contact.id, account],
    )
    .await
    .store()?;
    for identity in &identities {
        // K2: (inbox, external id) is the primary key: an identity of another contact is a
        // unique violation, mapped to `conflict`.
        tx.execute(
            "INSERT INTO contact_identities (inbox_id, external_id, account_id, contact_id) \
             VALUES ($1, $2, $3, $4)",
            &args![
                identity.inbox,
                identity.external_id.as_str(),
                account,
                contact.id
            ],
        )
        .await
        .store()?;
    }
    Ok(())
}

async fn remove_queue(tx: &mut Tx, account: AccountId, id: QueueId) -> StoreResult<bool> {
    // The queue first: a concurrent save of an inbox naming it holds it share-locked, so this
    // waits for that save's commit, and the update below then sees the inbox. Its members go
    // with it (ON DELETE CASCADE).
    let deleted = tx
        .execute(
            "DELETE FROM queues WHERE id = $1 AND account_id = $2",
            &args![id, account],
        )
        .await
        .store()?;
    // Inboxes that routed to it route to no queue (their conversations were interrupted by the
    // caller first, C7).
    tx.execute(
        "UPDATE inboxes SET queue_id = NULL WHERE account_id = $1 AND queue_id = $2",
        &args![account, id],
    )
    .await
    .store()?;
    Ok(deleted > 0)
}

#[async_trait]
impl DirectoryStore for SqlStore {
    async fn create_account(&self, account: &Account) -> Result<(), StoreError> {
        self.db
            .execute(
                "INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)",
                &args![account.id, account.name.as_str(), account.created_at],
            )
            .await
            .store()?;
        Ok(())
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        let row = self
            .db
            .fetch_optional(
                "SELECT id, name, created_at FROM accounts WHERE id = $1",
                &args![id],
            )
            .await
            .store()?;
        row.map(|row| {
            Ok(Account {
                id: AccountId::from_uuid(row.uuid("id").store()?),
                name: row.text("name").store()?,
                created_at: row.time("created_at").store()?,
            })
        })
        .transpose()
    }

    async fn save_agent(&self, agent: &Agent) -> Result<(), StoreError> {
        // A new agent starts offline with no load (the columns' defaults); an update leaves
        // availability, load and password alone: they change through commits and AuthStore.
        let written = self
            .db
            .execute(
                "INSERT INTO agents (id, account_id, name, email, email_key, role, full_access, \
                 permissions, capacity, experience_level, cost_tier, availability, availability_since) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'offline', 0) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, \
                 email_key = excluded.email_key, role = excluded.role, \
                 full_access = excluded.full_access, permissions = excluded.permissions, \
                 capacity = excluded.capacity, experience_level = excluded.experience_level, \
                 cost_tier = excluded.cost_tier \
                 WHERE agents.account_id = excluded.account_id",
                &args![
                    agent.id,
                    agent.account,
                    agent.name.as_str(),
                    agent.email.as_str(),
                    email_key(&agent.email),
                    name_of(&agent.role)?,
                    agent.full_access,
                    to_json(&agent.permissions)?,
                    agent.capacity,
                    agent.experience_level,
                    agent.cost_tier
                ],
            )
            .await
            .map_err(write_error)?;
        one_row(written)
    }

    async fn agent(&self, account: AccountId, id: AgentId) -> Result<Option<Agent>, StoreError> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = $1 AND account_id = $2");
        self.db
            .fetch_optional(&sql, &args![id, account])
            .await
            .store()?
            .as_ref()
            .map(agent_row)
            .transpose()
    }

    async fn agents(&self, account: AccountId) -> Result<Vec<Agent>, StoreError> {
        let sql =
            format!("SELECT {AGENT_COLUMNS} FROM agents WHERE account_id = $1 ORDER BY name, id");
        self.db
            .fetch_all(&sql, &args![account])
            .await
            .store()?
            .iter()
            .map(agent_row)
            .collect()
    }

    async fn agent_by_email(&self, email: &str) -> Result<Option<Agent>, StoreError> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE email_key = $1");
        self.db
            .fetch_optional(&sql, &args![email_key(email)])
            .await
            .store()?
            .as_ref()
            .map(agent_row)
            .transpose()
    }

    async fn save_queue(&self, queue: &Queue) -> Result<(), StoreError> {
        in_transaction!(self.db, |tx| write_queue(&mut tx, queue).await)
    }

    async fn queue(&self, account: AccountId, id: QueueId) -> Result<Option<Queue>, StoreError> {
        let Some(row) = self
            .db
            .fetch_optional(
                "SELECT id, account_id, name, strategy, delivery, offer_timeout_secs \
                 FROM queues WHERE id = $1 AND account_id = $2",
                &args![id, account],
            )
            .await
            .store()?
        else {
            return Ok(None);
        };
        let members = self
            .db
            .fetch_all(
                "SELECT m.agent_id FROM queue_members m JOIN queues q ON q.id = m.queue_id \
                 WHERE m.queue_id = $1 AND q.account_id = $2 ORDER BY m.position",
                &args![id, account],
            )
            .await
            .store()?
            .iter()
            .map(|row| row.uuid("agent_id").map(AgentId::from_uuid).store())
            .collect::<StoreResult<Vec<_>>>()?;
        queue_row(&row, members).map(Some)
    }

    async fn queues(&self, account: AccountId) -> Result<Vec<Queue>, StoreError> {
        let rows = self
            .db
            .fetch_all(
                "SELECT id, account_id, name, strategy, delivery, offer_timeout_secs \
                 FROM queues WHERE account_id = $1 ORDER BY name, id",
                &args![account],
            )
            .await
            .store()?;
        let mut members: HashMap<Uuid, Vec<AgentId>> = HashMap::new();
        for row in self
            .db
            .fetch_all(
                "SELECT m.queue_id, m.agent_id FROM queue_members m JOIN queues q ON q.id = m.queue_id \
                 WHERE q.account_id = $1 ORDER BY m.queue_id, m.position",
                &args![account],
            )
            .await
            .store()?
        {
            members
                .entry(row.uuid("queue_id").store()?)
                .or_default()
                .push(AgentId::from_uuid(row.uuid("agent_id").store()?));
        }
        rows.iter()
            .map(|row| {
                let id = row.uuid("id").store()?;
                queue_row(row, members.remove(&id).unwrap_or_default())
            })
            .collect()
    }

    async fn queues_of_agent(
        &self,
        account: AccountId,
        agent: AgentId,
    ) -> Result<Vec<QueueId>, StoreError> {
        self.db
            .fetch_all(
                "SELECT q.id FROM queues q JOIN queue_members m ON m.queue_id = q.id \
                 WHERE q.account_id = $1 AND m.agent_id = $2 ORDER BY q.name, q.id",
                &args![account, agent],
            )
            .await
            .store()?
            .iter()
            .map(|row| row.uuid("id").map(QueueId::from_uuid).store())
            .collect()
    }

    async fn delete_queue(&self, account: AccountId, id: QueueId) -> Result<bool, StoreError> {
        in_transaction!(self.db, |tx| remove_queue(&mut tx, account, id).await)
    }

    async fn save_inbox(&self, inbox: &Inbox) -> Result<(), StoreError> {
        in_transaction!(self.db, |tx| write_inbox(&mut tx, inbox).await)
    }

    async fn inbox(&self, account: AccountId, id: InboxId) -> Result<Option<Inbox>, StoreError> {
        self.db
            .fetch_optional(
                "SELECT id, account_id, name, channel, queue_id, settings FROM inboxes \
                 WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL",
                &args![id, account],
            )
            .await
            .store()?
            .as_ref()
            .map(inbox_row)
            .transpose()
    }

    async fn inbox_by_id(&self, id: InboxId) -> Result<Option<Inbox>, StoreError> {
        self.db
            .fetch_optional(
                "SELECT id, account_id, name, channel, queue_id, settings FROM inboxes \
                 WHERE id = $1 AND deleted_at IS NULL",
                &args![id],
            )
            .await
            .store()?
            .as_ref()
            .map(inbox_row)
            .transpose()
    }

    async fn inboxes(&self, account: AccountId) -> Result<Vec<Inbox>, StoreError> {
        self.db
            .fetch_all(
                "SELECT id, account_id, name, channel, queue_id, settings FROM inboxes \
                 WHERE account_id = $1 AND deleted_at IS NULL ORDER BY name, id",
                &args![account],
            )
            .await
            .store()?
            .iter()
            .map(inbox_row)
            .collect()
    }

    async fn delete_inbox(
        &self,
        account: AccountId,
        id: InboxId,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let marked = self
            .db
            .execute(
                "UPDATE inboxes SET deleted_at = $3 \
                 WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL",
                &args![id, account, at],
            )
            .await
            .store()?;
        Ok(marked > 0)
    }

    async fn save_contact(&self, contact: &Contact) -> Result<(), StoreError> {
        in_transaction!(self.db, |tx| write_contact(&mut tx, contact).await)
    }

    async fn contact(
        &self,
        account: AccountId,
        id: ContactId,
    ) -> Result<Option<Contact>, StoreError> {
        self.db
            .fetch_optional(
                "SELECT state FROM contacts WHERE id = $1 AND account_id = $2",
                &args![id, account],
            )
            .await
            .store()?
            .map(|row| row.json("state").store())
            .transpose()
    }

    async fn contact_by_identity(
        &self,
        account: AccountId,
        inbox: InboxId,
        external_id: &str,
    ) -> Result<Option<Contact>, StoreError> {
        self.db
            .fetch_optional(
                "SELECT c.state FROM contact_identities i JOIN contacts c ON c.id = i.contact_id \
                 WHERE i.inbox_id = $2 AND i.external_id = $3 AND i.account_id = $1 \
                 AND c.account_id = $1",
                &args![account, inbox, external_id],
            )
            .await
            .store()?
            .map(|row| row.json("state").store())
            .transpose()
    }

    async fn save_setting(
        &self,
        account: AccountId,
        kind: SettingKind,
        entry: &SettingEntry<Uuid>,
    ) -> Result<(), StoreError> {
        let written = self
            .db
            .execute(
                "INSERT INTO settings (id, account_id, kind, name, archived_at) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                 archived_at = excluded.archived_at \
                 WHERE settings.account_id = excluded.account_id AND settings.kind = excluded.kind",
                &args![
                    entry.id,
                    account,
                    name_of(&kind)?,
                    entry.name.as_str(),
                    entry.archived_at
                ],
            )
            .await
            .map_err(write_error)?;
        one_row(written)
    }

    async fn settings(
        &self,
        account: AccountId,
        kind: SettingKind,
    ) -> Result<Vec<SettingEntry<Uuid>>, StoreError> {
        self.db
            .fetch_all(
                "SELECT id, name, archived_at FROM settings \
                 WHERE account_id = $1 AND kind = $2 ORDER BY name, id",
                &args![account, name_of(&kind)?],
            )
            .await
            .store()?
            .iter()
            .map(setting_row)
            .collect()
    }

    async fn tasks(&self, account: AccountId, agent: AgentId) -> Result<Vec<Task>, StoreError> {
        self.db
            .fetch_all(
                "SELECT state FROM tasks WHERE account_id = $1 AND agent_id = $2 \
                 ORDER BY due_at, id",
                &args![account, agent],
            )
            .await
            .store()?
            .iter()
            .map(|row| row.json("state").store())
            .collect()
    }

    async fn mark_contact_seen(
        &self,
        account: AccountId,
        contact: ContactId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                "UPDATE contacts SET last_seen_at = $3 WHERE id = $1 AND account_id = $2 \
                 AND (last_seen_at IS NULL OR last_seen_at < $3)",
                &args![contact, account, at],
            )
            .await
            .store()?;
        Ok(())
    }

    async fn contact_last_seen(
        &self,
        account: AccountId,
        contact: ContactId,
    ) -> Result<Option<Timestamp>, StoreError> {
        let row = self
            .db
            .fetch_optional(
                "SELECT last_seen_at FROM contacts WHERE id = $1 AND account_id = $2",
                &args![contact, account],
            )
            .await
            .store()?;
        Ok(match row {
            Some(row) => row.opt_time("last_seen_at").store()?,
            None => None,
        })
    }

    async fn task(&self, account: AccountId, id: TaskId) -> Result<Option<Task>, StoreError> {
        self.db
            .fetch_optional(
                "SELECT state FROM tasks WHERE id = $1 AND account_id = $2",
                &args![id, account],
            )
            .await
            .store()?
            .map(|row| row.json("state").store())
            .transpose()
    }

    async fn update_task(&self, task: &Task) -> Result<(), StoreError> {
        let written = self
            .db
            .execute(
                "UPDATE tasks SET due_at = $4, state = $5 \
                 WHERE id = $1 AND account_id = $2 AND agent_id = $3",
                &args![
                    task.id,
                    task.account,
                    task.agent,
                    task.due_at,
                    to_json(task)?
                ],
            )
            .await
            .store()?;
        if written == 0 {
            return Err(DomainError::NotFound.into());
        }
        Ok(())
    }

    async fn orders(
        &self,
        account: AccountId,
        conversation: ConversationId,
    ) -> Result<Vec<Order>, StoreError> {
        self.db
            .fetch_all(
                "SELECT state FROM orders WHERE account_id = $1 AND conversation_id = $2 \
                 ORDER BY created_at, id",
                &args![account, conversation],
            )
            .await
            .store()?
            .iter()
            .map(|row| row.json("state").store())
            .collect()
    }
    async fn agent_presence(
        &self,
        account: AccountId,
        agent: AgentId,
    ) -> Result<Option<Versioned<AgentPresence>>, StoreError> {
        let Some(row) = self
            .db
            .fetch_optional(
                "SELECT availability, availability_since, presence_version FROM agents \
                 WHERE id = $1 AND account_id = $2",
                &args![agent, account],
            )
            .await
            .store()?
        else {
            return Ok(None);
        };
        Ok(Some(Versioned {
            value: AgentPresence {
                agent,
                availability: parse_name(&row, "availability")?,
                since: row.time("availability_since").store()?,
            },
            version: row.count("presence_version").store()?,
        }))
    }

    async fn inbox_with_deleted(
        &self,
        account: AccountId,
        id: InboxId,
    ) -> Result<Option<Inbox>, StoreError> {
        self.db
            .fetch_optional(
                "SELECT id, account_id, name, channel, queue_id, settings FROM inboxes \
                 WHERE id = $1 AND account_id = $2",
                &args![id, account],
            )
            .await
            .store()?
            .as_ref()
            .map(inbox_row)
            .transpose()
    }

    async fn live_conversations_of(
        &self,
        account: AccountId,
        dependency: Dependency,
    ) -> Result<Vec<ConversationId>, StoreError> {
        let (column, id) = match dependency {
            Dependency::Inbox(inbox) => ("inbox_id", inbox.as_uuid()),
            Dependency::Queue(queue) => ("queue_id", queue.as_uuid()),
        };
        let sql = format!(
            "SELECT id FROM conversations WHERE account_id = $1 AND {column} = $2 \
             AND status IN ('open', 'bot') AND NOT interrupted ORDER BY created_at, id"
        );
        self.db
            .fetch_all(&sql, &args![account, id])
            .await
            .store()?
            .iter()
            .map(|row| row.uuid("id").map(ConversationId::from_uuid).store())
            .collect()
    }

    async fn contact_conversations(
        &self,
        account: AccountId,
        contact: ContactId,
    ) -> Result<Vec<Versioned<Conversation>>, StoreError> {
        // K2: the contact and, through `merged_into`, every contact merged into it (UNION stops
        // at rows already seen, so even a corrupt cycle ends).
        self.db
            .fetch_all(
                "WITH RECURSIVE family (id) AS ( \
                   SELECT id FROM contacts WHERE id = $2 AND account_id = $1 \
                   UNION \
                   SELECT c.id FROM contacts c JOIN family f ON c.merged_into = f.id \
                   WHERE c.account_id = $1) \
                 SELECT state, version FROM conversations \
                 WHERE account_id = $1 AND contact_id IN (SELECT id FROM family) \
                 ORDER BY activity_at DESC, id DESC",
                &args![account, contact],
            )
            .await
            .store()?
            .iter()
            .map(crate::rows::conversation)
            .collect()
    }

    async fn save_contacts(&self, contacts: &[Contact]) -> Result<(), StoreError> {
        in_transaction!(self.db, |tx| {
            let mut result = Ok(());
            for contact in contacts {
                result = write_contact(&mut tx, contact).await;
                if result.is_err() {
                    break;
                }
            }
            result
        })
    }
}
